from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema

from accounts import services
from accounts.api_auth import signed_in
from accounts.models import User

router = Router(tags=["auth"])


class RegisterIn(Schema):
    username: str
    password: str
    role: Literal["asker", "lawyer"] = "asker"
    phone: str | None = None
    email: str | None = None


class UserOut(Schema):
    id: int
    username: str
    role: str


class TokenIn(Schema):
    username: str
    password: str
    name: str | None = None


class TokenOut(Schema):
    token: str
    token_id: int
    user: UserOut


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, str] | None = None


def client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


@router.post(
    "/register", response={201: UserOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}, auth=None
)
def register(request: HttpRequest, payload: RegisterIn):
    services.registration_throttle(address=client_address(request))
    user = services.user_register(
        username=payload.username,
        password=payload.password,
        role=payload.role,
        phone=payload.phone or "",
        email=payload.email or "",
    )
    return 201, user


@router.post("/token", response={200: TokenOut, 401: ErrorOut, 429: ErrorOut}, auth=None)
def token(request: HttpRequest, payload: TokenIn):
    user = services.user_check_credentials(
        username=payload.username, password=payload.password, address=client_address(request)
    )
    token_row, raw = services.token_issue(user=user, name=payload.name or "")
    return {"token": raw, "token_id": token_row.pk, "user": user}


@router.delete("/token/{token_id}", response={204: None, 401: ErrorOut}, auth=signed_in)
def revoke_token(request: HttpRequest, token_id: int):
    services.token_revoke(user=request.user, token_id=token_id)  # type: ignore[arg-type]
    return 204, None


@router.get("/me", response={200: UserOut, 401: ErrorOut}, auth=signed_in)
def me(request: HttpRequest):
    user: User = request.user  # type: ignore[assignment]
    return user

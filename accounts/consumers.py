"""The one socket at /ws/. Thin: parse a frame, call the app's handler, answer errors."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace
from typing import Any

from channels.consumer import get_handler_name
from channels.db import aclose_old_connections
from channels.generic.websocket import AsyncWebsocketConsumer
from django.http.cookie import parse_cookie
from django.utils import translation

from accounts.frames import FRAME_HANDLERS, FRAME_LOCALIZERS, HOOKS
from accounts.realtime import user_group
from config.errors import DomainError
from config.observability import socket_closed, socket_opened

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_RECONNECT = 4001  # credentials changed: reconnect, and be signed in again or refused
MAX_FRAME_BYTES = 64 * 1024
REF_FIELDS = ("ref", "client_id", "offer")


def frame_ref(frame: Any) -> Any:
    if isinstance(frame, dict):
        for field in REF_FIELDS:
            value = frame.get(field)
            if isinstance(value, str | int) and not isinstance(value, bool):
                return value
    return None


def socket_language(scope: dict[str, Any]) -> str:
    """The language the socket's pages are in: the language cookie, else Accept-Language, else
    the site's default, exactly as LocaleMiddleware picks it for a page."""
    headers = {name.lower(): value.decode("latin-1") for name, value in scope.get("headers", [])}
    cookies = scope.get("cookies")
    if cookies is None:
        cookies = parse_cookie(headers.get(b"cookie", ""))
    request = SimpleNamespace(
        COOKIES=cookies, META={"HTTP_ACCEPT_LANGUAGE": headers.get(b"accept-language", "")}
    )
    return translation.get_language_from_request(request)  # type: ignore[arg-type]


# Channels hops to its thread-sensitive thread before every event to close that thread's old
# database connections. Only the session stack's lookups run there (and they close after
# themselves); every frame's database work runs in `DatabaseSyncToAsync`, which closes its own.
# So the hop runs where a socket begins and ends, not per frame or pushed event, where it was
# the largest single cost of a chat message (15% of web CPU).
EVENTS_WITH_CONNECTION_CLEANUP = frozenset({"websocket.connect", "websocket.disconnect"})


class ClientConsumer(AsyncWebsocketConsumer):
    """Error messages and frames' display text are in the socket's language (`socket_language`)."""

    user_id: int | None = None
    language: str = ""

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        if message["type"] in EVENTS_WITH_CONNECTION_CLEANUP:
            await aclose_old_connections()
        await handler(message)

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.user_id = user.pk
        self.language = socket_language(self.scope)
        self.state: dict[str, Any] = {}  # per-connection scratch space for apps
        await self.channel_layer.group_add(user_group(user.pk), self.channel_name)
        await self.accept()
        socket_opened()
        with translation.override(self.language):
            await self.run_hooks("connect")

    async def disconnect(self, code: int) -> None:
        if self.user_id is None:
            return
        socket_closed()
        try:
            await self.channel_layer.group_discard(user_group(self.user_id), self.channel_name)
        finally:
            with translation.override(self.language):
                await self.run_hooks("disconnect")

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        raw = text_data if text_data is not None else bytes_data
        if raw is None:
            return
        if len(raw) > MAX_FRAME_BYTES:
            await self.send_error("frame_too_large", "The frame is too large.", None)
            return
        try:
            frame = json.loads(raw)
        except (ValueError, RecursionError):
            await self.send_error("invalid_json", "The frame is not valid JSON.", None)
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self.send_error(
                "invalid_frame", "A frame is a JSON object with a string `type`.", frame_ref(frame)
            )
            return
        with translation.override(self.language):
            await self.dispatch_frame(frame)

    async def dispatch_frame(self, frame: dict[str, Any]) -> None:
        frame_type = frame["type"]
        if frame_type == "ping":
            await self.send_frame({"type": "pong"})
            return
        if frame_type == "resume":
            await self.run_hooks("resume", frame)
            return
        handler = FRAME_HANDLERS.get(frame_type)
        if handler is None:
            await self.send_error("unknown_type", "Unknown frame type.", frame_ref(frame))
            return
        try:
            await handler(self, frame)
        except DomainError as exc:
            await self.send_error(exc.code, str(exc.detail), frame_ref(frame))
        except Exception:
            logger.exception("frame handler %s failed", frame_type)
            await self.send_error(
                "server_error", "Something went wrong on our side. Try again.", frame_ref(frame)
            )

    async def run_hooks(self, name: str, *args: Any) -> None:
        for hook in HOOKS[name]:
            try:
                await hook(self, *args)
            except DomainError as exc:
                await self.send_error(
                    exc.code, str(exc.detail), frame_ref(args[0] if args else None)
                )
            except Exception:
                logger.exception("socket hook %s.%s failed", name, getattr(hook, "__name__", hook))
                if name != "disconnect":
                    await self.send_error("server_error", "Something went wrong on our side.", None)

    async def send_frame(self, frame: dict[str, Any]) -> None:
        localizer = FRAME_LOCALIZERS.get(frame.get("type", ""))
        if localizer is not None:
            frame = await localizer(frame, self.language)
        text = json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
        try:
            await self.send(text_data=text)
        except OSError:
            # ASGI servers raise an OSError when the client has already gone (uvicorn's
            # ClientDisconnected): its disconnect is on its way, and nothing is left to tell it
            logger.debug(
                "socket of user %s closed before a %s frame", self.user_id, frame.get("type")
            )

    async def send_error(self, code: str, message: str, ref: Any) -> None:
        await self.send_frame({"type": "error", "code": code, "message": message, "ref": ref})

    # --- layer events -------------------------------------------------------------------
    async def client_frame(self, event: dict[str, Any]) -> None:
        """A frame pushed to this user from anywhere (accounts.realtime)."""
        await self.send_frame(event["frame"])

    async def client_reconnect(self, event: dict[str, Any]) -> None:
        """The user's credentials changed (accounts.realtime.sockets_reconnect): the client
        reconnects and is signed in again only by what it still holds."""
        await self.close(code=CLOSE_RECONNECT)

    async def client_frames(self, event: dict[str, Any]) -> None:
        for frame in event["frames"]:
            await self.send_frame(frame)

"""Role checks for API and socket entry points."""

from __future__ import annotations

from accounts.errors import WrongRole
from accounts.models import User


def require_role(user: User, *roles: str) -> User:
    if user.role not in roles and not (User.Role.STAFF in roles and user.is_staff):
        raise WrongRole()
    return user


def require_staff(user: User) -> User:
    from config.errors import NotFound

    # non-staff learn nothing of staff routes
    if not user.is_staff_member:
        raise NotFound()
    return user

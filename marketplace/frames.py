"""The marketplace on the one socket: `presence` (lawyers; also the heartbeat), `offer.accept`,
`offer.decline`, and what a client may have missed besides messages, re-sent on every connect
and `resume`: `offer.new` for a lawyer's live offers, `consult.updated` for an asker's open
consults. The last of a lawyer's sockets to close takes the lawyer offline.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from channels.db import DatabaseSyncToAsync
from django.utils import translation

from accounts.errors import WrongRole
from accounts.frames import frame_handler, frame_localizer, socket_hook
from accounts.models import User
from marketplace import errors, presence, selectors, services, socket_frames
from marketplace.models import Category, LawyerProfile, Region

if TYPE_CHECKING:
    from accounts.consumers import ClientConsumer

logger = logging.getLogger(__name__)

HOME_CACHE_SECONDS = 60.0  # how long a socket trusts the home city it looked up
MAX_ID = 2**63 - 1


def _db(fn):
    return DatabaseSyncToAsync(fn, thread_sensitive=False)


def _uid(consumer: ClientConsumer) -> int:
    assert consumer.user_id is not None  # hooks and handlers run for signed-in sockets only
    return consumer.user_id


def _is_lawyer(consumer: ClientConsumer) -> bool:
    return consumer.user.role == User.Role.LAWYER


def _offer_id(frame: dict[str, Any]) -> int:
    value = frame.get("offer")
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ID:
        raise errors.InvalidOfferRef(fields={"offer": errors.InvalidOfferRef.message})
    return value


def _lawyer_home(lawyer_id: int) -> presence.Home:
    """The home of a lawyer who may be online: verified, account open, a home city set."""
    row = (
        LawyerProfile.objects.filter(user_id=lawyer_id)
        .values("verification", "user__is_active", "home_city_id", "home_city__parent_id")
        .first()
    )
    if (
        row is None
        or row["verification"] != LawyerProfile.Verification.VERIFIED
        or not row["user__is_active"]
    ):
        raise errors.LawyerNotVerified()
    if row["home_city_id"] is None or row["home_city__parent_id"] is None:
        raise errors.ProfileIncomplete()
    return presence.Home(city=row["home_city_id"], province=row["home_city__parent_id"])


async def _home(consumer: ClientConsumer, *, max_age: float = HOME_CACHE_SECONDS) -> presence.Home:
    cached = consumer.state.get("marketplace.home")
    if cached is not None and time.monotonic() - cached[1] < max_age:
        return cached[0]
    home = await _db(_lawyer_home)(consumer.user_id)
    consumer.state["marketplace.home"] = (home, time.monotonic())
    return home


def _enqueue_match_for_lawyer(lawyer_id: int) -> None:
    from marketplace.tasks import match_for_lawyer

    try:
        match_for_lawyer.delay(lawyer_id)
    except Exception as exc:
        # the heartbeat is stored; beat's sweep matches waiting consults without this trigger
        logger.warning("match_for_lawyer not enqueued: %s", type(exc).__name__)


@frame_handler("presence")
async def presence_frame(consumer: ClientConsumer, frame: dict[str, Any]) -> None:
    """`{"type": "presence", "status": "online"|"away"}`: sent by a lawyer's socket on going
    online, on switching, and every PRESENCE_HEARTBEAT_SECONDS as the heartbeat."""
    if not _is_lawyer(consumer):
        raise WrongRole()
    status = frame.get("status", presence.ONLINE)
    if status not in (presence.ONLINE, presence.AWAY):
        raise errors.InvalidPresenceStatus(fields={"status": errors.InvalidPresenceStatus.message})
    asked_at = time.monotonic()
    home = await _home(consumer)
    read_now = consumer.state["marketplace.home"][1] >= asked_at

    async def current_home() -> presence.Home:
        # a beat that may put the lawyer back in the sets (after a revocation took them out,
        # say) reads verification afresh, unless this frame has just read it
        return home if read_now else await _home(consumer, max_age=0)

    became_available = await presence.heartbeat(
        _uid(consumer), home=home, status=status, current_home=current_home
    )
    if became_available:
        # consults waiting for someone like this lawyer get a matching pass
        await sync_to_async(_enqueue_match_for_lawyer, thread_sensitive=False)(_uid(consumer))


@frame_handler("offer.accept")
async def offer_accept_frame(consumer: ClientConsumer, frame: dict[str, Any]) -> None:
    """The winner and the asker get `consult.matched`; a loser gets an `offer_taken` error."""
    offer_id = _offer_id(frame)
    await _db(services.offer_accept)(offer_id=offer_id, lawyer=consumer.user)


@frame_handler("offer.decline")
async def offer_decline_frame(consumer: ClientConsumer, frame: dict[str, Any]) -> None:
    """Every socket of the lawyer gets `offer.revoked` (reason `declined`)."""
    await _db(services.offer_decline)(offer_id=_offer_id(frame), lawyer=consumer.user)


def missed_frames(*, user_id: int, role: str) -> list[dict[str, Any]]:
    """What a (re)connecting client is re-sent besides messages. One query."""
    if role == User.Role.LAWYER:
        return [
            socket_frames.offer_new(offer)
            for offer in selectors.lawyer_live_offers(lawyer_id=user_id)
        ]
    return [
        socket_frames.consult_updated(consult, offered=consult.live_offers)  # type: ignore[attr-defined]
        for consult in selectors.asker_open_consults(asker_id=user_id)
    ]


async def _resend(consumer: ClientConsumer) -> None:
    for frame in await _db(missed_frames)(user_id=consumer.user_id, role=consumer.user.role):
        await consumer.send_frame(frame)


@socket_hook("connect")
async def marketplace_on_connect(consumer: ClientConsumer) -> None:
    # a lawyer's sockets are counted once, with every user's, by messaging's peer presence
    await _resend(consumer)


@socket_hook("resume")
async def marketplace_on_resume(consumer: ClientConsumer, frame: dict[str, Any]) -> None:
    await _resend(consumer)


@socket_hook("disconnect")
async def marketplace_on_disconnect(consumer: ClientConsumer) -> None:
    if _is_lawyer(consumer):
        await presence.socket_closed(_uid(consumer), channel_name=consumer.channel_name)


# --- display names in each socket's language ---------------------------------------------------
# Regions and categories are reference data (a data migration writes them): read once per process.
_reference: tuple[dict[str, Region], dict[str, Category]] | None = None


def _load_reference() -> tuple[dict[str, Region], dict[str, Category]]:
    return (
        {region.code: region for region in Region.objects.all()},
        {category.slug: category for category in Category.objects.all()},
    )


@frame_localizer("offer.new")
async def offer_names_in_socket_language(frame: dict[str, Any], language: str) -> dict[str, Any]:
    """`offer.new` is built once, by the matching worker in the site's default language, for
    lawyers who read either language: its category and city names follow each socket's."""
    global _reference
    if _reference is None:
        _reference = await _db(_load_reference)()
    regions, categories = _reference
    offer = frame.get("offer") or {}
    summary = offer.get("summary") or {}
    city = regions.get(str(summary.get("city")))
    category = categories.get(str(summary.get("category")))
    if city is None or category is None:
        return frame
    with translation.override(language):
        names = {"city_name": city.name, "category_name": category.name}
    return {**frame, "offer": {**offer, "summary": {**summary, **names}}}

"""The marketplace on the real socket: presence, offers reaching lawyers through the real Celery
worker, accept/decline frames, and what is re-sent on connect and `resume`."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from marketplace import matching, presence
from marketplace.models import Consult, Offer
from marketplace.tasks import match_consult
from tests.conftest import receive_until
from tests.factories import AskerFactory, LawyerProfileFactory, category, city
from tests.marketplace.factories import ConsultFactory, OfferFactory, QuestionFactory

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("matching_settings", "settled_worker"),
]
State = Consult.State
db = sync_to_async


def make_profile(**fields):
    fields.setdefault("home_city", city("370100"))
    return LawyerProfileFactory(**fields)


async def go_online(sock, status: str = "online") -> None:
    await sock.send_json_to({"type": "presence", "status": status})
    # a ping answered means the presence frame before it was handled
    await sock.send_json_to({"type": "ping"})
    await receive_until(sock, "pong")


async def no_frame_of(sock, frame_type: str, quiet: float = 0.3) -> bool:
    """Drain the socket until it stays quiet (a receive timeout would cancel the consumer)."""
    seen = []
    while not await sock.receive_nothing(timeout=quiet):
        seen.append((await sock.receive_json_from())["type"])
    return frame_type not in seen


def ask(api, asker, **consult):
    question = (
        api(asker)
        .post(
            "questions",
            {
                "title": "借钱不还怎么起诉",
                "body": "朋友借我五万元不还。",
                "category": "debt",
                "city": "370100",
            },
        )
        .json()
    )
    return api(asker).post("consults", {"question": question["id"], **consult}).json()


async def first_matching_pass(consult_id: int, timeout: float = 5) -> None:
    """Wait for the worker's first matching pass of the consult (it stamps `matched_at`, even
    when it finds nobody)."""
    deadline = asyncio.get_running_loop().time() + timeout
    passed = Consult.objects.filter(pk=consult_id, matched_at__isnull=False).aexists
    while not await passed():
        assert asyncio.get_running_loop().time() < deadline, "no matching pass"
        await asyncio.sleep(0.02)


# --- offers reach lawyers -----------------------------------------------------------------


async def test_a_free_consult_reaches_an_online_lawyers_socket(api, ws):
    # given
    profile = await db(make_profile)()
    asker = await db(AskerFactory)()
    lawyer_sock = await ws(profile.user)
    asker_sock = await ws(asker)
    await go_online(lawyer_sock)
    # when
    consult = await db(ask)(api, asker)
    # then
    frame = await receive_until(lawyer_sock, "offer.new", timeout=5)
    offer = frame["offer"]
    assert offer["consult"] == consult["id"]
    assert offer["summary"] == {
        "title": "借钱不还怎么起诉",
        "category": "debt",
        "category_name": offer["summary"]["category_name"],
        "city": "370100",
        "city_name": offer["summary"]["city_name"],
        "price": 0,
        "currency": "CNY",
        "paid": False,
    }
    assert isinstance(offer["id"], int) and offer["expires_at"]
    updated = await receive_until(asker_sock, "consult.updated", timeout=5)
    while updated.get("search", {}).get("offered") != 1:
        updated = await receive_until(asker_sock, "consult.updated", timeout=5)
    assert updated["consult"]["id"] == consult["id"]
    assert updated["consult"]["state"] == "offered"
    assert updated["search"] == {"scope": "city", "offered": 1, "round": 1}


ENGLISH = [(b"accept-language", b"en-US,en;q=0.9")]


async def test_each_lawyer_reads_the_offer_in_the_language_of_their_pages(api, ws):
    # given two lawyers online: one whose pages are English (by their language cookie, or their
    # browser's Accept-Language), one on the Chinese default
    reader_en = await db(make_profile)()
    reader_zh = await db(make_profile)()
    english = await ws(reader_en.user, headers=[(b"cookie", b"django_language=en"), *ENGLISH])
    chinese = await ws(reader_zh.user)
    await go_online(english)
    await go_online(chinese)
    asker = await db(AskerFactory)()
    # when the matching worker offers a consult in 济南 about debt to both
    await db(ask)(api, asker)
    # then each socket shows its names
    summary_en = (await receive_until(english, "offer.new", timeout=5))["offer"]["summary"]
    summary_zh = (await receive_until(chinese, "offer.new", timeout=5))["offer"]["summary"]
    assert (summary_en["city_name"], summary_en["category_name"]) == (
        "Jinan",
        "Debt & credit cards",
    )
    assert (summary_zh["city_name"], summary_zh["category_name"]) == ("济南", "债务与信用卡")
    assert summary_en["title"] == summary_zh["title"] == "借钱不还怎么起诉"


async def test_socket_errors_are_told_in_the_language_of_the_sockets_pages(ws):
    profile = await db(make_profile)()
    english = await ws(profile.user, headers=ENGLISH)
    chinese = await ws(profile.user)

    await english.send_json_to({"type": "offer.accept", "offer": "abc"})
    await chinese.send_json_to({"type": "offer.accept", "offer": "abc"})

    assert (await receive_until(english, "error"))["message"] == "Name the offer by its id."
    assert (await receive_until(chinese, "error"))["message"] == "请用编号指明咨询推送。"


async def test_nobody_online_then_a_lawyer_arrives_and_gets_the_offer(api, ws):
    # given: a consult that found nobody
    profile = await db(make_profile)()
    asker = await db(AskerFactory)()
    consult = await db(ask)(api, asker)
    await first_matching_pass(consult["id"])
    assert await db(Offer.objects.filter(consult_id=consult["id"]).count)() == 0
    # when
    lawyer_sock = await ws(profile.user)
    await go_online(lawyer_sock)
    # then
    frame = await receive_until(lawyer_sock, "offer.new", timeout=5)
    assert frame["offer"]["consult"] == consult["id"]


async def test_the_matching_task_delivered_twice_makes_one_set_of_offers():
    # given
    profiles = [await db(make_profile)() for _ in range(5)]
    for profile in profiles:
        await presence.heartbeat(
            profile.user_id, home=presence.Home("370100", "370000"), status="online"
        )
    consult = await db(ConsultFactory)()
    # when: the same message twice, as a broker redelivery would
    results = await asyncio.gather(
        asyncio.to_thread(
            lambda: match_consult.apply_async((consult.pk, 0), ignore_result=False).get(timeout=10)
        ),
        asyncio.to_thread(
            lambda: match_consult.apply_async((consult.pk, 0), ignore_result=False).get(timeout=10)
        ),
    )
    # then
    assert sorted(results) == [0, 3]
    assert await db(Offer.objects.filter(consult=consult).count)() == 3


async def test_a_reconnecting_lawyer_gets_its_live_offers_again(ws):
    # given
    profile = await db(make_profile)()
    live = await db(OfferFactory)(lawyer=profile.user)
    await db(OfferFactory)(lawyer=profile.user, state=Offer.State.EXPIRED)
    # when
    sock = await ws(profile.user)
    # then
    frame = await receive_until(sock, "offer.new")
    assert frame["offer"]["id"] == live.pk
    assert await no_frame_of(sock, "offer.new")
    # and again on resume
    await sock.send_json_to({"type": "resume", "cursors": {}})
    assert (await receive_until(sock, "offer.new"))["offer"]["id"] == live.pk


async def test_an_asker_gets_its_open_consults_on_connect_and_resume(ws):
    # given
    asker = await db(AskerFactory)()
    searching = await db(ConsultFactory)(question=await db(QuestionFactory)(asker=asker))
    await db(OfferFactory)(consult=searching)
    await db(Consult.objects.filter(pk=searching.pk).update)(state=State.OFFERED)
    await db(ConsultFactory)(question=await db(QuestionFactory)(asker=asker), state=State.RESOLVED)
    # when
    sock = await ws(asker)
    # then
    frame = await receive_until(sock, "consult.updated")
    assert frame["consult"] == {
        "id": searching.pk,
        "state": "offered",
        "asker": asker.pk,
        "lawyer": None,
        "conversation": None,
    }
    assert frame["search"] == {"scope": "city", "offered": 1, "round": 0}
    assert await no_frame_of(sock, "consult.updated")
    await sock.send_json_to({"type": "resume", "cursors": {}})
    assert (await receive_until(sock, "consult.updated"))["consult"]["id"] == searching.pk


async def test_an_expired_offer_is_revoked_on_the_lawyers_socket(ws):
    # given
    offer = await db(OfferFactory)(lawyer=(await db(make_profile)()).user)
    sock = await ws(offer.lawyer)
    await receive_until(sock, "offer.new")
    # when
    await db(matching.expire_due_offers)(now=timezone.now() + timedelta(seconds=61))
    # then
    frame = await receive_until(sock, "offer.revoked")
    assert frame["offer"] == {"id": offer.pk, "consult": offer.consult_id}
    assert frame["reason"] == "expired"


async def test_a_revoked_lawyer_hears_the_offer_withdrawn_and_staff_hear_the_queue(ws):
    # given a lawyer with a live offer, and a staff member, both connected
    from marketplace import services
    from tests.factories import StaffFactory

    offer = await db(OfferFactory)(lawyer=(await db(make_profile)()).user)
    staff = await db(StaffFactory)()
    lawyer_sock, staff_sock = await ws(offer.lawyer), await ws(staff)
    await receive_until(lawyer_sock, "offer.new")
    # when staff revoke the lawyer's approval
    await db(services.lawyer_verify)(
        staff=staff, lawyer_id=offer.lawyer_id, approved=False, reason="执业证已注销"
    )
    # then the lawyer's socket is told the offer is withdrawn
    revoked = await receive_until(lawyer_sock, "offer.revoked")
    assert revoked["offer"] == {"id": offer.pk, "consult": offer.consult_id}
    assert revoked["reason"] == "withdrawn"
    # and staff sockets that the lawyer is no longer verified
    changed = await receive_until(staff_sock, "verification.changed")
    assert changed == {
        "type": "verification.changed",
        "lawyer": offer.lawyer_id,
        "verification": "rejected",
        "waiting": 0,
    }


# --- accept and decline on the socket ---------------------------------------------------------


async def offered_to_two(ws):
    """An asker's consult offered to two lawyers, the three of them connected."""
    asker = await db(AskerFactory)()
    consult = await db(ConsultFactory)(
        question=await db(QuestionFactory)(asker=asker), state=State.OFFERED
    )
    winner = await db(OfferFactory)(consult=consult, lawyer=(await db(make_profile)()).user)
    loser = await db(OfferFactory)(consult=consult, lawyer=(await db(make_profile)()).user)
    sockets = await ws(asker), await ws(winner.lawyer), await ws(loser.lawyer)
    return asker, consult, winner, loser, sockets


async def test_accept_frame_matches_and_tells_asker_winner_and_loser(ws):
    # given
    asker, consult, winner, loser, (asker_sock, winner_sock, loser_sock) = await offered_to_two(ws)
    # when
    await winner_sock.send_json_to({"type": "offer.accept", "offer": winner.pk})
    # then
    for sock in (winner_sock, asker_sock):
        matched = await receive_until(sock, "consult.matched")
        assert matched["consult"]["id"] == consult.pk
        assert matched["consult"]["state"] == "active"
        assert matched["consult"]["asker"] == asker.pk
        assert matched["consult"]["lawyer"] == winner.lawyer_id
        assert isinstance(matched["consult"]["conversation"], int)
    revoked = await receive_until(loser_sock, "offer.revoked")
    assert revoked["offer"]["id"] == loser.pk and revoked["reason"] == "taken"
    # a late accept gets an error frame naming the offer, and the socket stays usable
    await loser_sock.send_json_to({"type": "offer.accept", "offer": loser.pk})
    error = await receive_until(loser_sock, "error")
    assert (error["code"], error["ref"]) == ("offer_taken", loser.pk)
    await loser_sock.send_json_to({"type": "ping"})
    await receive_until(loser_sock, "pong")


async def test_asker_and_lawyer_learn_the_other_is_online_as_they_are_matched(ws):
    # given an asker and two lawyers connected before the match: not yet anyone's peers
    asker, _consult, winner, _loser, (asker_sock, winner_sock, loser_sock) = await offered_to_two(
        ws
    )
    assert await no_frame_of(asker_sock, "presence")
    # when
    await winner_sock.send_json_to({"type": "offer.accept", "offer": winner.pk})
    # then the two who now share a conversation are told the other is online
    told_asker = await receive_until(asker_sock, "presence")
    told_lawyer = await receive_until(winner_sock, "presence")
    assert told_asker == {"type": "presence", "user": winner.lawyer_id, "status": "online"}
    assert told_lawyer == {"type": "presence", "user": asker.pk, "status": "online"}
    assert await no_frame_of(loser_sock, "presence")


async def test_decline_frame_revokes_the_offer_on_the_lawyers_sockets(ws):
    offer = await db(OfferFactory)(lawyer=(await db(make_profile)()).user)
    first, second = await ws(offer.lawyer), await ws(offer.lawyer)

    await first.send_json_to({"type": "offer.decline", "offer": str(offer.pk)})

    for sock in (first, second):
        frame = await receive_until(sock, "offer.revoked")
        assert frame["offer"]["id"] == offer.pk and frame["reason"] == "declined"
    assert (await db(Offer.objects.get)(pk=offer.pk)).state == Offer.State.DECLINED


@pytest.mark.parametrize("bad", [None, "abc", -1, True, {"id": "x"}, "²"])
async def test_offer_frame_without_a_valid_offer_id_gets_an_error(ws, bad):
    profile = await db(make_profile)()
    sock = await ws(profile.user)

    await sock.send_json_to({"type": "offer.accept", "offer": bad})

    assert (await receive_until(sock, "error"))["code"] == "invalid_offer"


# --- presence on the socket ---------------------------------------------------------------


async def test_presence_frame_puts_the_lawyer_online_and_last_close_takes_it_offline(ws):
    # given
    profile = await db(make_profile)()
    first, second = await ws(profile.user), await ws(profile.user)
    await go_online(first)
    assert await db(presence.online_counts)(["370100"]) == {"370100": 1}
    # when / then
    await first.disconnect()
    assert await db(presence.lawyers_online)() == 1
    await second.disconnect()
    assert await db(presence.lawyers_online)() == 0


async def test_away_is_counted_but_offered_nothing(ws):
    profile = await db(make_profile)()
    sock = await ws(profile.user)

    await go_online(sock, "away")

    assert await db(presence.lawyers_online)() == 1
    assert await db(presence.available_among)([profile.user_id]) == set()


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("asker", "online", "wrong_role"),
        ("lawyer", "busy", "invalid_status"),
        ("unverified", "online", "lawyer_not_verified"),
        ("homeless", "online", "profile_incomplete"),
    ],
)
async def test_bad_presence_gets_an_error_and_the_socket_stays_open(ws, who, status, code):
    # given
    if who == "asker":
        user = await db(AskerFactory)()
    elif who == "unverified":
        user = (await db(make_profile)(verification="pending")).user
    elif who == "homeless":
        user = (await db(lambda: make_profile(home_city=None, serves=[city("370100")]))()).user
    else:
        user = (await db(make_profile)()).user
    sock = await ws(user)
    # when
    await sock.send_json_to({"type": "presence", "status": status})
    # then
    assert (await receive_until(sock, "error"))["code"] == code
    await sock.send_json_to({"type": "ping"})
    await receive_until(sock, "pong")
    assert await db(presence.lawyers_online)() == 0


async def test_presence_expires_without_heartbeats(ws, settings):
    # given
    settings.PRESENCE_TIMEOUT_SECONDS = 60
    profile = await db(make_profile)()
    sock = await ws(profile.user)
    await go_online(sock)
    # when: a minute passes with no heartbeat
    later = timezone.now().timestamp() + 61
    assert await db(presence.lawyers_online)(now=later) == 0
    reaped = await db(presence.reap)(now=later)
    # then
    assert reaped == [profile.user_id]
    assert await db(presence.lawyers_online)() == 0
    # and the next heartbeat brings the lawyer back
    await go_online(sock)
    assert await db(presence.lawyers_online)() == 1


async def test_a_revoked_lawyer_stops_counting_at_once_and_heartbeats_do_not_bring_them_back(ws):
    # given a lawyer online on a socket (its home looked up and cached), and a staff member
    from marketplace import services
    from tests.factories import StaffFactory

    profile = await db(make_profile)()
    staff = await db(StaffFactory)()
    sock = await ws(profile.user)
    await go_online(sock)
    assert await db(presence.online_counts)(["370100", "370000", presence.NATION]) == {
        "370100": 1,
        "370000": 1,
        presence.NATION: 1,
    }
    # when staff revoke the approval
    await db(services.lawyer_verify)(
        staff=staff, lawyer_id=profile.user_id, approved=False, reason="执业证已注销"
    )
    # then the lawyer counts nowhere at once
    assert await db(presence.online_counts)(["370100", "370000", presence.NATION]) == {
        "370100": 0,
        "370000": 0,
        presence.NATION: 0,
    }
    assert (await db(presence.online_by_region)()).total == 0
    # and the still-open socket's heartbeats, steady or switching status, are refused as for
    # any unverified lawyer and do not put the lawyer back
    for status in ("online", "online", "away"):
        await sock.send_json_to({"type": "presence", "status": status})
        assert (await receive_until(sock, "error"))["code"] == "lawyer_not_verified"
        assert await db(presence.lawyers_online)() == 0
    # when staff approve the lawyer again, the next heartbeat counts them again
    await db(services.lawyer_verify)(staff=staff, lawyer_id=profile.user_id, approved=True)
    await go_online(sock)
    assert await db(presence.online_counts)(["370100", presence.NATION]) == {
        "370100": 1,
        presence.NATION: 1,
    }


async def test_category_and_city_names_ride_along_for_display(ws):
    profile = await db(make_profile)()
    question = await db(lambda: QuestionFactory(city=city("370200"), category=category("labour")))()
    await db(OfferFactory)(lawyer=profile.user, consult=await db(ConsultFactory)(question=question))

    sock = await ws(profile.user)
    summary = (await receive_until(sock, "offer.new"))["offer"]["summary"]

    assert (summary["city"], summary["category"]) == ("370200", "labour")
    assert summary["city_name"] and summary["category_name"]

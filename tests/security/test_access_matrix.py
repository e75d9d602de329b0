"""Who may touch what: every route and socket action on a question, consult, offer,
conversation, message, payment or the dashboard, tried as its owner, another asker, another
lawyer, anonymously and as staff. Anyone who may not see a thing gets exactly what they would
get for an id that does not exist: they learn nothing, not even that it exists.

The world (`world`): asker A's private question and active paid consult with lawyer L (its
conversation, its payment), and a second consult of A's offered to L (the pending offer).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from billing.models import Payment
from marketplace.models import Consult, Offer
from messaging.services import message_send
from tests.billing.factories import make_active, paid_consult
from tests.conftest import bearer_for, receive_until
from tests.factories import AskerFactory, LawyerProfileFactory, StaffFactory
from tests.marketplace.factories import ConsultFactory, OfferFactory, QuestionFactory

MISSING = 2**31 - 1
ACTORS = ("owner", "other_asker", "other_lawyer", "anonymous", "staff")


@dataclass
class World:
    asker: Any
    lawyer: Any
    other_asker: Any
    other_lawyer: Any
    staff: Any
    question: int
    consult: int
    conversation: int
    payment: int
    offer: int

    def user(self, actor: str, owner: str):
        if actor == "owner":
            return getattr(self, owner)
        return None if actor == "anonymous" else getattr(self, actor)


def build_world() -> World:
    asker = AskerFactory()
    lawyer = LawyerProfileFactory().user
    question = QuestionFactory(asker=asker, is_public=False)
    consult, payment = paid_consult(asker=asker)
    Payment.objects.filter(pk=payment.pk).update(
        state=Payment.State.AUTHORIZED, authorized_at=timezone.now()
    )
    consult = make_active(consult, lawyer)
    message_send(
        sender=asker,
        conversation_id=consult.conversation_id,
        client_id="m1",
        body="the asker's private words",
    )
    offered = ConsultFactory(
        question=QuestionFactory(asker=asker), asker=asker, state=Consult.State.OFFERED
    )
    offer = OfferFactory(consult=offered, lawyer=lawyer)
    return World(
        asker=asker,
        lawyer=lawyer,
        other_asker=AskerFactory(),
        other_lawyer=LawyerProfileFactory().user,
        staff=StaffFactory(),
        question=question.pk,
        consult=consult.pk,
        conversation=consult.conversation_id,
        payment=payment.pk,
        offer=offer.pk,
    )


@pytest.fixture
def world(db) -> World:
    return build_world()


# --- the API --------------------------------------------------------------------------------
# (method, path with {id}, the id's kind, body, owner, {actor: expected status})
N, U = 404, 401
# fmt: off
API: list[tuple[str, str, str, dict | None, str, dict[str, int]]] = [
    # method, path, the id's kind, body, owner: expected status for each actor
    ("get", "/api/v1/questions/{id}", "question", None, "asker",
     {"owner": 200, "other_asker": N, "other_lawyer": N, "anonymous": N, "staff": N}),
    ("get", "/api/v1/consults/{id}", "consult", None, "asker",
     {"owner": 200, "other_asker": N, "other_lawyer": N, "anonymous": U, "staff": N}),
    ("get", "/api/v1/consults/{id}", "consult", None, "lawyer",
     {"owner": 200, "other_asker": N, "other_lawyer": N, "anonymous": U, "staff": N}),
    ("post", "/api/v1/consults/{id}/close", "consult", {}, "asker",
     {"owner": 200, "other_asker": N, "other_lawyer": N, "anonymous": U, "staff": N}),
    ("post", "/api/v1/consults/{id}/rating", "consult", {"score": 5}, "asker",
     {"owner": 409, "other_asker": N, "other_lawyer": N, "anonymous": U, "staff": N}),
    ("post", "/api/v1/consults/{id}/publish", "consult",
     {"title": "公开我的咨询", "body": "内容", "confirm": True}, "asker",
     {"other_asker": N, "other_lawyer": N, "anonymous": U, "staff": N}),
    # an asker or staff may not accept offers at all, existing or not (403 wrong_role)
    ("post", "/api/v1/offers/{id}/accept", "offer", {}, "lawyer",
     {"owner": 200, "other_asker": 403, "other_lawyer": N, "anonymous": U, "staff": 403}),
    ("post", "/api/v1/offers/{id}/decline", "offer", {}, "lawyer",
     {"owner": 200, "other_asker": 403, "other_lawyer": N, "anonymous": U, "staff": 403}),
    ("get", "/api/v1/conversations/{id}/messages", "conversation", None, "asker",
     {"owner": 200, "other_asker": N, "other_lawyer": N, "anonymous": U, "staff": N}),
    ("get", "/api/v1/conversations/{id}/messages", "conversation", None, "lawyer",
     {"owner": 200, "other_asker": N, "other_lawyer": N, "anonymous": U, "staff": N}),
    # staff see payments (support); only the asker pays
    ("get", "/api/v1/payments/{id}", "payment", None, "asker",
     {"owner": 200, "other_asker": N, "other_lawyer": N, "anonymous": U, "staff": 200}),
    ("post", "/api/v1/payments/{id}/checkout", "payment", {}, "asker",
     {"owner": 200, "other_asker": N, "other_lawyer": N, "anonymous": U, "staff": N}),
    ("post", "/api/v1/payments/{id}/sandbox-authorize", "payment", {}, "asker",
     {"owner": 200, "other_asker": N, "other_lawyer": N, "anonymous": U, "staff": N}),
    ("post", "/api/v1/payments/{id}/sync", "payment", {}, "asker",
     {"owner": 200, "other_asker": N, "other_lawyer": N, "anonymous": U, "staff": N}),
    # staff only; an authorised (not captured) payment cannot be refunded
    ("post", "/api/v1/admin/payments/{id}/refund", "payment", {}, "staff",
     {"owner": 409, "other_asker": N, "other_lawyer": N, "anonymous": U}),
    ("get", "/api/v1/admin/dashboard", "", None, "staff",
     {"owner": 200, "other_asker": N, "other_lawyer": N, "anonymous": U}),
    ("get", "/api/v1/admin/lawyers", "", None, "staff",
     {"owner": 200, "other_asker": N, "other_lawyer": N, "anonymous": U}),
    ("get", "/api/v1/admin/moderation/reports", "", None, "staff",
     {"owner": 200, "other_asker": N, "other_lawyer": N, "anonymous": U}),
    # pages: anonymous visitors are sent to sign in, whatever the id
    ("get", "/consults/{id}/", "consult", None, "asker",
     {"owner": 200, "other_asker": N, "other_lawyer": N, "anonymous": 302, "staff": N}),
    ("get", "/consults/{id}/", "consult", None, "lawyer",
     {"owner": 200, "other_asker": N, "other_lawyer": N, "anonymous": 302, "staff": N}),
    ("get", "/billing/pay/{id}/", "payment", None, "asker",
     {"owner": 200, "other_asker": N, "other_lawyer": N, "anonymous": 302, "staff": N}),
    # the public Q&A page shows public questions only (the asker's private one is in its consult)
    ("get", "/questions/{id}/", "question", None, "asker",
     {"owner": N, "other_asker": N, "other_lawyer": N, "anonymous": N, "staff": N}),
    ("get", "/dashboard/", "", None, "staff",
     {"owner": 200, "other_asker": N, "other_lawyer": N, "anonymous": N}),
]
# fmt: on


def api_cases():
    for method, path, kind, body, owner, expected in API:
        for actor, status in expected.items():
            yield pytest.param(
                method,
                path,
                kind,
                body,
                owner,
                actor,
                status,
                id=f"{method.upper()} {path} [{kind or 'page'} of {owner}] as {actor}",
            )


def call(user, method: str, url: str, body: dict | None):
    client = Client()
    headers = {}
    if user is not None:
        if url.startswith("/api/"):
            headers["HTTP_AUTHORIZATION"] = f"Bearer {bearer_for(user)}"
        else:
            client.force_login(user)
    if method == "get":
        return client.get(url, **headers)
    return client.post(url, json.dumps(body or {}), content_type="application/json", **headers)


CSRF_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def normalized(content: bytes, url: str) -> bytes:
    """A page without what differs between any two responses (the masked CSRF token) or what
    the requester sent itself (the URL, echoed in the sign-out form's `next`)."""
    return CSRF_TOKEN.sub(b"csrf", content).replace(url.encode(), b"{url}")


@pytest.mark.parametrize(
    ("method", "path", "kind", "body", "owner", "actor", "expected"), list(api_cases())
)
def test_route_answers_each_actor_as_it_should(
    world, method, path, kind, body, owner, actor, expected
):
    # given
    user = world.user(actor, owner)
    url = path.format(id=getattr(world, kind) if kind else "")
    # when
    response = call(user, method, url, body)
    # then
    assert response.status_code == expected, response.content[:300]
    if expected in (401, 403, 404, 302) and kind:
        # exactly the answer for an id that does not exist: nothing learnt
        missing_url = path.format(id=MISSING)
        missing = call(user, method, missing_url, body)
        assert missing.status_code == response.status_code
        assert normalized(response.content, url) == normalized(missing.content, missing_url)
        if expected == 302:
            assert response["Location"].split("?")[0] == missing["Location"].split("?")[0]


@pytest.mark.parametrize("actor", ["other_asker", "other_lawyer", "staff"])
def test_lists_show_no_one_else_s_consults_conversations_or_offers(world, api, actor):
    # given
    user = getattr(world, actor)
    # when
    consults = api(user).get("consults").json()
    conversations = api(user).get("conversations").json()
    questions = api(user).get("questions", {"mine": "true"}).json()
    # then
    items = consults["items"] if isinstance(consults, dict) else consults
    assert world.consult not in [c["id"] for c in items]
    assert world.conversation not in [c["id"] for c in conversations]
    q_items = questions["items"] if isinstance(questions, dict) else questions
    assert world.question not in [q["id"] for q in q_items]
    if actor == "other_lawyer":
        queue = api(user).get("lawyer/queue").json()
        assert world.offer not in [o["id"] for o in queue]


# --- the socket -------------------------------------------------------------------------------
SOCKET_ACTIONS = {
    "message.send": lambda w, ref: {
        "type": "message.send",
        "conversation": ref,
        "client_id": "intruder-1",
        "body": "let me in",
    },
    "typing": lambda w, ref: {"type": "typing", "conversation": ref},
    "read": lambda w, ref: {"type": "read", "conversation": ref, "seq": 1},
    "resume": lambda w, ref: {"type": "resume", "cursors": {str(ref): 0}},
    "offer.accept": lambda w, ref: {"type": "offer.accept", "offer": ref},
    "offer.decline": lambda w, ref: {"type": "offer.decline", "offer": ref},
}
TARGET = {
    "message.send": "conversation",
    "typing": "conversation",
    "read": "conversation",
    "resume": "conversation",
    "offer.accept": "offer",
    "offer.decline": "offer",
}


def without_ref(frame: dict) -> dict:
    return {k: v for k, v in frame.items() if k != "ref"}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("action", list(SOCKET_ACTIONS))
@pytest.mark.parametrize("actor", ["other_asker", "other_lawyer", "staff"])
async def test_socket_action_on_someone_else_s_thing_answers_as_for_a_missing_one(
    ws, action, actor
):
    # given
    world = await sync_to_async(build_world)()
    sock = await ws(getattr(world, actor))
    real = getattr(world, TARGET[action])
    # when
    await sock.send_json_to(SOCKET_ACTIONS[action](world, real))
    answer = await receive_until(sock, "error")
    await sock.send_json_to(SOCKET_ACTIONS[action](world, MISSING))
    answer_missing = await receive_until(sock, "error")
    # then
    assert without_ref(answer) == without_ref(answer_missing)
    await sock.send_json_to({"type": "ping"})
    frames = []
    while (frame := await sock.receive_json_from(timeout=3))["type"] != "pong":
        frames.append(frame)
    assert not [f for f in frames if f.get("type") == "message.new"]
    # and nothing changed
    offer_state = await sync_to_async(lambda: Offer.objects.get(pk=world.offer).state)()
    assert offer_state == Offer.State.PENDING
    bodies = await sync_to_async(
        lambda: list(
            Consult.objects.get(pk=world.consult).conversation.messages.values_list(
                "body", flat=True
            )
        )
    )()
    assert bodies == ["the asker's private words"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_only_participants_sockets_receive_a_conversation_s_messages(ws):
    # given everyone connected
    world = await sync_to_async(build_world)()
    socks = {
        name: await ws(getattr(world, name))
        for name in ("asker", "lawyer", "other_asker", "other_lawyer", "staff")
    }
    # when the asker writes
    await socks["asker"].send_json_to(
        {
            "type": "message.send",
            "conversation": world.conversation,
            "client_id": "m2",
            "body": "only for my lawyer",
        }
    )
    await receive_until(socks["lawyer"], "message.new")
    # then no one else gets a frame about it
    for name in ("other_asker", "other_lawyer", "staff"):
        await socks[name].send_json_to({"type": "ping"})
        while (frame := await socks[name].receive_json_from(timeout=3))["type"] != "pong":
            assert frame.get("conversation") != world.conversation, (name, frame)
            assert "only for my lawyer" not in json.dumps(frame, ensure_ascii=False)

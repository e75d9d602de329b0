"""No personal data in logs. A whole flow runs on a real web process and a real Celery worker,
both logging at production's level (INFO): people register with their phone numbers, one types
a phone number into the sign-in box and fails, an asker asks a question holding a phone number,
opens a consult, a lawyer is matched and they chat. Then everything the two processes and this
one logged is searched for the phone numbers and the texts used."""

from __future__ import annotations

import logging

import httpx
import pytest
from asgiref.sync import sync_to_async

from accounts.models import User
from tests.factories import LawyerProfileFactory, category, city
from tests.reliability.conftest import (  # noqa: F401 - the fault suite's stack fixtures
    LiveSocket,
    private_redis,
    stack,
)

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(120),
]

PASSWORD = "a-Strong-pass-123"
ASKER_PHONE, LAWYER_PHONE, TYPED_PHONE = "13912345678", "13787654321", "15011223344"
QUESTION = f"房东不退押金怎么办？我的电话{TYPED_PHONE}"
ASKER_SAYS = f"押金三千元，合同在我这里，您可以打{TYPED_PHONE}找我"
LAWYER_SAYS = "好的，请把合同第五条拍给我看看（私密内容）"


@sync_to_async
def verify(username: str) -> User:
    lawyer = User.objects.get(username=username)
    LawyerProfileFactory(user=lawyer, home_city=city("370100"), practises=[category("debt")])
    return lawyer


async def test_a_whole_flow_logs_no_phone_number_and_no_text(stack, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    web = stack.web_process(DJANGO_LOG_LEVEL="INFO")
    stack.celery_worker(DJANGO_LOG_LEVEL="INFO")
    async with httpx.AsyncClient(base_url=f"{web.http_url}/api/v1", timeout=20) as http:
        # people register with their phones (one typo'd first)
        for username, role, phone in (
            ("pd_asker", "asker", ASKER_PHONE + "9"),
            ("pd_asker", "asker", ASKER_PHONE),
            ("pd_lawyer", "lawyer", LAWYER_PHONE),
        ):
            await http.post(
                "/auth/register",
                json={"username": username, "password": PASSWORD, "role": role, "phone": phone},
            )
        lawyer = await verify("pd_lawyer")
        # someone types a phone number where the username goes, twice
        for _ in range(2):
            failed = await http.post(
                "/auth/token", json={"username": ASKER_PHONE, "password": "wrong"}
            )
            assert failed.status_code == 401
        tokens = {}
        for username in ("pd_asker", "pd_lawyer"):
            answer = await http.post(
                "/auth/token", json={"username": username, "password": PASSWORD}
            )
            tokens[username] = {"Authorization": f"Bearer {answer.json()['token']}"}
        # the lawyer comes online; the asker asks and opens a consult
        lawyer_sock = LiveSocket(tokens["pd_lawyer"]["Authorization"][7:], web.ws_url)
        await lawyer_sock.connect()
        await lawyer_sock.send({"type": "presence", "status": "online"})
        question = await http.post(
            "/questions",
            headers=tokens["pd_asker"],
            json={
                "title": "押金纠纷",
                "body": QUESTION,
                "category": "debt",
                "city": "370100",
                "is_public": False,
            },
        )
        assert question.status_code == 201, question.text
        consult = await http.post(
            "/consults", headers=tokens["pd_asker"], json={"question": question.json()["id"]}
        )
        assert consult.status_code == 201, consult.text
        asker_sock = LiveSocket(tokens["pd_asker"]["Authorization"][7:], web.ws_url)
        await asker_sock.connect()
        # the lawyer takes it and they talk
        offer = await lawyer_sock.expect(lambda f: f.get("type") == "offer.new", timeout=30)
        await lawyer_sock.send({"type": "offer.accept", "offer": offer["offer"]["id"]})
        matched = await asker_sock.expect(lambda f: f.get("type") == "consult.matched")
        conversation = matched["consult"]["conversation"]
        await asker_sock.send_message(conversation, ASKER_SAYS)
        await lawyer_sock.send_message(conversation, LAWYER_SAYS)
        # and a message that cannot be stored (a conversation that is not theirs)
        refused = await asker_sock.send_message(conversation + 1000, ASKER_SAYS)
        assert refused["type"] == "error"
        for sock in (asker_sock, lawyer_sock):
            await sock.close()
    assert lawyer.pk

    # then nothing any process logged holds a phone number or a text people wrote
    logs = {
        "web process": stack.web_stderr(),
        "worker": "\n".join(w.log for w in stack.workers),
        "this process": caplog.text,
    }
    assert "INFO" in logs["worker"], "the worker logged nothing: the search would prove nothing"
    for where, text in logs.items():
        for secret in (
            ASKER_PHONE,
            LAWYER_PHONE,
            TYPED_PHONE,
            QUESTION,
            ASKER_SAYS,
            LAWYER_SAYS,
            "押金三千元",
            "合同第五条",
        ):
            assert secret not in text, f"{secret!r} is in the {where}'s log"

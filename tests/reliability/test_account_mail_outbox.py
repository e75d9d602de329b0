"""An account mail asked for while Redis (the Celery broker) is down is not lost: the request
answers as usual, the mail waits in PostgreSQL (accounts.outbox), and once Redis is back beat's
sweep has a worker send it, with a link that works."""

from __future__ import annotations

import re

import httpx
import pytest
from django.test import Client

from accounts.models import AccountMail
from tests.factories import AskerFactory
from tests.reliability.conftest import wait_until

pytestmark = [
    pytest.mark.fault,
    pytest.mark.timeout(120),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LINK_RE = re.compile(
    r"https?://[^/\s]+/accounts/password/reset/(?P<uid>[^/\s]+)/(?P<token>[^/\s]+)/"
)
# the worker prints each mail it sends into its log (this test's only way to read its mail)
CONSOLE_MAIL = "django.core.mail.backends.console.EmailBackend"


def test_a_reset_asked_for_while_redis_is_down_is_mailed_by_the_sweep(stack):
    # given a member, and a web process whose Redis is down
    member = AskerFactory(email="li.ming@example.cn")
    web = stack.web_process()
    stack.redis.kill()
    # when they ask for a reset link
    response = httpx.post(
        f"{web.http_url}/api/v1/auth/password/reset",
        json={"login": member.username},
        headers={"Accept-Language": "en"},
        timeout=30,
    )
    # then the answer is the usual one, and the mail waits in the outbox (its task was lost)
    assert response.status_code == 202, response.text
    row = AccountMail.objects.get(user=member)
    assert (row.kind, row.language, row.state) == ("reset", "en", AccountMail.State.PENDING)
    assert "accounts.account_mail_send not enqueued after commit" in stack.web_stderr()

    # when Redis is back, with a worker and beat
    stack.redis.restart()
    worker = stack.celery_worker(EMAIL_BACKEND=CONSOLE_MAIL, ACCOUNT_MAIL_RETRY_AFTER_SECONDS="1")
    stack.celery_beat(ACCOUNT_MAIL_SWEEP_SECONDS="1")
    # then beat's sweep has the worker send it, once
    wait_until(
        lambda: AccountMail.objects.get(pk=row.pk).state == AccountMail.State.SENT,
        timeout=60,
        what="the sweep to send the mail",
    )
    log = worker.log
    assert log.count("Subject: Reset your Lawline password") == 1
    assert "To: li.ming@example.cn" in log
    # and its link, made by the worker when it sent the mail, sets a new password
    link = LINK_RE.search(log)
    assert link, log
    done = Client().post(
        "/api/v1/auth/password/reset/confirm",
        {"uid": link["uid"], "token": link["token"], "new_password": "Lawline-after-2026"},
        content_type="application/json",
    )
    assert done.status_code == 204

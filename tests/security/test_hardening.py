"""Hardening that holds for every page and every user: security headers and a strict
Content-Security-Policy, secure HttpOnly cookies and HTTPS under production settings, and rate
limits on registering, signing in, asking, reporting and sending messages.

(`manage.py check --deploy` under production settings: tests/config/test_tooling.py.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client

from tests.conftest import BASE_DIR, child_env, receive_until
from tests.factories import TEST_PASSWORD, AskerFactory, LawyerFactory, category, city
from tests.marketplace.factories import QuestionFactory
from tests.messaging.factories import direct_conversation

PAGES = [
    "/",
    "/questions/",
    "/lawyers/",
    "/accounts/login/",
    "/accounts/register/",
    "/ask/",
    "/consults/",
    "/workbench/",
    "/dashboard/",
    "/api/v1/docs",
]


def directives(policy: str) -> dict[str, list[str]]:
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part
    }


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_pages_carry_security_headers_and_a_strict_policy(url):
    # given someone signed in who may see the page (a lawyer for the workbench, staff for the
    # dashboard, an asker otherwise)
    from tests.factories import LawyerProfileFactory, StaffFactory

    user = {"/workbench/": lambda: LawyerProfileFactory().user, "/dashboard/": StaffFactory}.get(
        url, AskerFactory
    )()
    client = Client()
    client.force_login(user)
    # when
    response = client.get(url)
    # then
    assert response.status_code == 200, url
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    for directive in ("script-src", "style-src"):
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*"} & set(policy[directive]), directive
    # and the page needs nothing the policy forbids: no inline script, no inline handlers
    html = response.content.decode()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, (url, tag)
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), url
    assert not re.search(r"<[^>]+\sstyle\s*=", html), f"{url}: inline style blocked by the CSP"


PRODUCTION_PROBE = textwrap.dedent(
    """
    import json, django
    django.setup()
    from django.test import Client
    client = Client(HTTP_HOST="lawline.example")
    plain = client.get("/accounts/login/")
    page = client.get("/accounts/login/", secure=True)
    login = client.post("/accounts/login/", {"username": USERNAME, "password": PASSWORD},
                        secure=True)
    cookies = {
        name: {k: str(v) for k, v in morsel.items() if v}
        for name, morsel in {**page.cookies, **login.cookies}.items()
    }
    print(json.dumps({
        "plain": [plain.status_code, plain.get("Location", "")],
        "hsts": page.get("Strict-Transport-Security", ""),
        "login": login.status_code,
        "cookies": cookies,
    }))
    """
)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_production_serves_https_only_with_secure_httponly_cookies():
    # given a user whose password is hashed as production hashes (tests use MD5 for speed),
    # and the production settings
    hashed = PBKDF2PasswordHasher().encode(TEST_PASSWORD, PBKDF2PasswordHasher().salt())
    user = AskerFactory(password=hashed)
    env = child_env(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="a-production-grade-secret-key-with-enough-entropy-0123456789abcdef",
        DJANGO_ALLOWED_HOSTS="lawline.example",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://lawline.example",
    )
    script = f"USERNAME={user.username!r}\nPASSWORD={TEST_PASSWORD!r}\n" + PRODUCTION_PROBE
    # when
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # then
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["plain"] == [301, "https://lawline.example/accounts/login/"]
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert seen["login"] == 302, seen
    for name in ("sessionid", "csrftoken"):
        cookie = seen["cookies"][name]
        assert cookie.get("secure") == "True", (name, cookie)
        assert cookie.get("httponly") == "True", (name, cookie)
        assert cookie.get("samesite") == "Lax", (name, cookie)


# --- rate limits -----------------------------------------------------------------------------
@pytest.mark.django_db
def test_registering_is_rate_limited_per_address(api):
    # given
    limit = settings.REGISTER_RATE_LIMIT
    # when
    answers = [
        api(None).post(
            "auth/register",
            {"username": f"flood{i}", "password": "a-Strong-pass-123", "role": "asker"},
        )
        for i in range(limit + 1)
    ]
    # then
    assert [a.status_code for a in answers] == [201] * limit + [429]
    assert answers[-1].json()["code"] == "rate_limited"


@pytest.mark.django_db
def test_signing_in_locks_out_after_repeated_failures(api):
    # given
    user = AskerFactory()
    limit = settings.LOGIN_FAILURE_LIMIT
    # when
    answers = [
        api(None).post("auth/token", {"username": user.username, "password": "wrong"})
        for _ in range(limit)
    ]
    right = api(None).post("auth/token", {"username": user.username, "password": TEST_PASSWORD})
    # then: even the right password waits out the lock
    assert [a.status_code for a in answers] == [401] * (limit - 1) + [429]
    assert (right.status_code, right.json()["code"]) == (429, "login_locked")


@pytest.mark.django_db
def test_asking_is_rate_limited_per_asker(api):
    # given
    asker = AskerFactory()
    limit = settings.QUESTION_RATE_LIMIT_PER_HOUR
    ask = {
        "title": "欠款不还怎么办",
        "body": "朋友借钱不还。",
        "category": "debt",
        "city": "370100",
    }
    # when
    answers = [api(asker).post("questions", ask) for _ in range(limit + 1)]
    other = api(AskerFactory()).post("questions", ask)
    # then
    assert [a.status_code for a in answers] == [201] * limit + [429]
    assert answers[-1].json()["code"] == "rate_limited"
    assert other.status_code == 201


@pytest.mark.django_db
def test_reporting_is_rate_limited_per_reporter(api):
    # given questions enough to report one over the hourly limit
    reporter = AskerFactory()
    limit = settings.QA_REPORTS_PER_HOUR
    questions = [
        QuestionFactory(category=category(), city=city(), is_public=True) for _ in range(limit + 1)
    ]
    # when
    answers = [
        api(reporter).post(
            "reports", {"target_type": "question", "target_id": q.pk, "reason": "spam"}
        )
        for q in questions
    ]
    # then
    assert [a.status_code for a in answers] == [201] * limit + [429]
    assert answers[-1].json()["code"] == "report_rate_limited"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_sending_messages_is_rate_limited_per_user_across_sockets(ws):
    # given one person on two sockets
    asker, lawyer = await sync_to_async(AskerFactory)(), await sync_to_async(LawyerFactory)()
    conversation = (await sync_to_async(direct_conversation)(asker, lawyer)).pk
    socks = [await ws(asker), await ws(asker)]
    limit = settings.MESSAGING_RATE_LIMIT_COUNT
    # when the sends alternate between the sockets
    answers = []
    for i in range(limit + 1):
        sock = socks[i % 2]
        await sock.send_json_to(
            {
                "type": "message.send",
                "conversation": conversation,
                "client_id": f"r{i}",
                "body": f"hello {i}",
            }
        )
        frame = (
            await receive_until(sock, "message.ack")
            if i < limit
            else await receive_until(sock, "error")
        )
        answers.append(frame)
    # then the limit counts both sockets together
    assert all(a["type"] == "message.ack" for a in answers[:limit])
    assert (answers[-1]["code"], answers[-1]["ref"]) == ("rate_limited", f"r{limit}")

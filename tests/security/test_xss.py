"""Script in every field a user can write: question title and body, answer, message, rating
comment, report details, lawyer bio, firm and name, a staff member's reason for opening a
conversation. Pages and the admin show it escaped (as text, never as markup); the JSON API
carries it verbatim, served as JSON with `X-Content-Type-Options: nosniff`; usernames cannot
hold markup at all."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from marketplace.models import Consult
from messaging.services import message_send
from qa.models import Answer, Report
from tests.billing.factories import make_active, paid_consult
from tests.factories import AskerFactory, LawyerProfileFactory, StaffFactory

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('xss')</script>"
IMG = '<img src=x onerror="alert(1)">'


def payload(field: str) -> str:
    """A field's own payload: markup to run, plus a marker to find it by."""
    return f"{field}{SCRIPT}{IMG}&amp;"


def escaped(field: str) -> bytes:
    """How Django's autoescaping shows `payload(field)` in a page."""
    return (
        f"{field}&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;"
        "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;amp;"
    ).encode()


def assert_inert(content: bytes, *fields: str) -> None:
    assert b"<script>alert(" not in content
    assert b"<img src=x" not in content
    for field in fields:
        assert escaped(field) in content, f"{field} is not shown (escaped) on this page"


@pytest.fixture
def written(api):
    """Every user-written field, through the same routes and services people use."""
    asker = AskerFactory()
    lawyer = LawyerProfileFactory().user
    User.objects.filter(pk=lawyer.pk).update(first_name=payload("name"), last_name="")
    lawyer.refresh_from_db()
    assert (
        api(lawyer)
        .put("lawyer/profile", {"bio": payload("bio"), "firm": payload("firm")})
        .status_code
        == 200
    )
    question = api(asker).post(
        "questions",
        {
            "title": payload("title"),
            "body": payload("body"),
            "category": "debt",
            "city": "370100",
            "is_public": True,
        },
    )
    assert question.status_code == 201, question.content
    question_id = question.json()["id"]
    answer = api(lawyer).post(
        f"questions/{question_id}/answers", {"body": payload("answer"), "legal_bases": []}
    )
    assert answer.status_code == 201, answer.content
    staff = StaffFactory(is_superuser=True)
    review = api(staff).post(
        f"admin/moderation/answers/{answer.json()['id']}/review", {"approve": True}
    )
    assert review.status_code == 200, review.content
    consult, _ = paid_consult(asker=asker)
    Consult.objects.filter(pk=consult.pk).update(question_id=question_id)
    consult = make_active(consult, lawyer)
    message_send(
        sender=asker,
        conversation_id=consult.conversation_id,
        client_id="x1",
        body=payload("message"),
    )
    report = api(AskerFactory()).post(
        "reports",
        {
            "target_type": "answer",
            "target_id": answer.json()["id"],
            "reason": "spam",
            "details": payload("report"),
        },
    )
    assert report.status_code == 201, report.content
    assert api(asker).post(f"consults/{consult.pk}/close").status_code == 200
    rating = api(asker).post(
        f"consults/{consult.pk}/rating", {"score": 1, "comment": payload("rating")}
    )
    assert rating.status_code == 201, rating.content
    rating_id = Consult.objects.get(pk=consult.pk).rating.pk
    return {
        "asker": asker,
        "lawyer": lawyer,
        "staff": staff,
        "question": question_id,
        "answer": answer.json()["id"],
        "consult": consult.pk,
        "conversation": consult.conversation_id,
        "rating": rating_id,
    }


def page(user, url: str) -> bytes:
    client = Client()
    if user is not None:
        client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert response["Content-Type"].startswith("text/html")
    return response.content


@pytest.mark.parametrize(
    ("who", "url", "fields"),
    [
        (None, "/questions/{question}/", ["title", "body", "answer", "name"]),
        (None, "/questions/", ["title"]),
        (None, "/lawyers/{lawyer.pk}/", ["bio", "firm", "name"]),
        (None, "/lawyers/", ["name", "firm"]),
        ("asker", "/consults/{consult}/", ["title", "message", "name"]),
        ("asker", "/consults/", ["title"]),
        ("lawyer", "/answers/mine/", ["answer"]),
        ("staff", "/moderation/", ["report"]),
    ],
)
def test_pages_show_user_text_escaped(written, who, url, fields):
    # when
    content = page(written[who] if who else None, url.format(**written))
    # then
    assert_inert(content, *fields)


@pytest.mark.parametrize(
    ("url", "fields"),
    [
        ("/admin/accounts/user/{lawyer.pk}/change/", []),
        ("/admin/accounts/user/", []),
        ("/admin/billing/rating/", []),
        ("/admin/billing/rating/{rating}/change/", ["rating"]),
        ("/admin/messaging/conversation/{conversation}/change/?reason=" + "%3Cb%3Ereason", []),
        ("/admin/messaging/conversation/{conversation}/change/?reason=audit", ["message"]),
        ("/admin/messaging/staffaccessrecord/", []),
    ],
)
def test_admin_shows_user_text_escaped(written, url, fields):
    # when
    content = page(written["staff"], url.format(**written))
    # then
    assert_inert(content, *fields)
    assert b"<b>reason" not in content


def test_json_carries_user_text_verbatim_and_unsniffable(written, api):
    # when
    question = api(None).get(f"questions/{written['question']}")
    lawyer = api(None).get(f"lawyers/{written['lawyer'].pk}")
    messages = api(written["asker"]).get(f"conversations/{written['conversation']}/messages")
    # then
    for response in (question, lawyer, messages):
        assert response["Content-Type"].startswith("application/json")
        assert response["X-Content-Type-Options"] == "nosniff"
    assert question.json()["title"] == payload("title")
    assert question.json()["body"] == payload("body")
    assert (lawyer.json()["bio"], lawyer.json()["firm"]) == (payload("bio"), payload("firm"))
    assert messages.json()["messages"][0]["body"] == payload("message")
    assert Answer.objects.get(pk=written["answer"]).body == payload("answer")
    assert Report.objects.get().details == payload("report")
    assert Consult.objects.get(pk=written["consult"]).rating.comment == payload("rating")


@pytest.mark.parametrize("username", ["<script>x</script>", 'a"onmouseover=alert(1)', "<b>hi"])
def test_usernames_cannot_hold_markup(api, username):
    # when
    response = api(None).post(
        "auth/register", {"username": username, "password": "a-Strong-pass-123", "role": "asker"}
    )
    # then
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_username"

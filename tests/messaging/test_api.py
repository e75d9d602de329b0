import pytest
from django.test import Client

from messaging import services
from messaging.errors import ConversationNotFound
from tests.conftest import bearer_for
from tests.messaging.factories import consult_with_conversation, direct_conversation

pytestmark = pytest.mark.django_db


def send(sender, conversation, client_id, body="你好"):
    return services.message_send(
        sender=sender, conversation_id=conversation.pk, client_id=client_id, body=body
    )[0]


def messages_url(conversation_id) -> str:
    return f"conversations/{conversation_id}/messages"


# --- GET /conversations -------------------------------------------------------------------
def test_conversation_list_shows_last_message_unread_count_and_other_participant(
    api, asker, lawyer, conversation
):
    send(asker, conversation, "a1", "我想咨询")
    send(lawyer, conversation, "l1", "请讲")
    last = send(lawyer, conversation, "l2", "<script>alert(1)</script>")
    # when
    response = api(asker).get("conversations")
    # then
    assert response.status_code == 200
    [row] = response.json()
    assert row["id"] == conversation.pk and row["kind"] == "direct" and row["consult"] is None
    assert row["other"] == {"id": lawyer.pk, "name": lawyer.display_name, "role": "lawyer"}
    assert row["last_seq"] == 3 and row["unread_count"] == 2
    assert row["last_read_seq"] == 1 and row["other_last_read_seq"] == 3
    assert row["last_message"]["id"] == last.pk
    assert row["last_message"]["body"] == "<script>alert(1)</script>"  # verbatim JSON
    assert row["last_message"]["client_id"] is None  # not the reader's own message


def test_conversation_list_is_most_recent_first_and_pages(api, asker, lawyer, other_lawyer):
    older = direct_conversation(asker, lawyer)
    newer = direct_conversation(asker, other_lawyer)
    send(lawyer, older, "o")
    send(other_lawyer, newer, "n")
    ids = [row["id"] for row in api(asker).get("conversations").json()]
    assert ids == [newer.pk, older.pk]
    page = api(asker).get("conversations", {"limit": 1, "offset": 1}).json()
    assert [row["id"] for row in page] == [older.pk]


def test_consult_conversation_names_its_consult(api, asker, lawyer):
    consult = consult_with_conversation(asker, lawyer)
    [row] = api(lawyer).get("conversations").json()
    assert (row["kind"], row["consult"]) == ("consult", consult.pk)


def test_platform_inbox_has_no_other_participant_and_notices_are_from_the_platform(api, asker):
    services.notice_send(user=asker, kind="welcome", context={})
    [row] = api(asker).get("conversations").json()
    assert row["kind"] == "platform" and row["other"] is None and row["unread_count"] == 1
    assert row["last_message"]["from_platform"] is True
    assert row["last_message"]["sender"] is None


def test_conversation_list_query_count_does_not_grow_with_conversations(
    api, asker, django_assert_num_queries
):
    from tests.factories import LawyerFactory

    client = api(asker)
    client.get("conversations")  # the token's first use writes last_used_at
    for n in range(5):
        conversation = direct_conversation(asker, LawyerFactory())
        send(asker, conversation, f"c{n}")
    services.notice_send(user=asker, kind="welcome", context={})
    # token, memberships with unread counts, other participants, last messages
    with django_assert_num_queries(4):
        response = client.get("conversations")
    assert len(response.json()) == 6


# --- GET /conversations/{id}/messages -----------------------------------------------------
def test_messages_page_after_seq_in_order_with_has_more(api, asker, lawyer, conversation):
    for n in range(5):
        send(lawyer if n % 2 else asker, conversation, f"m{n}", f"第{n}条")
    client = api(asker)
    # when
    first = client.get(messages_url(conversation.pk), {"after_seq": 0, "limit": 2}).json()
    rest = client.get(messages_url(conversation.pk), {"after_seq": 2, "limit": 10}).json()
    # then
    assert [m["seq"] for m in first["messages"]] == [1, 2] and first["has_more"] is True
    assert [m["seq"] for m in rest["messages"]] == [3, 4, 5] and rest["has_more"] is False
    mine = first["messages"][0]
    assert mine["sender"] == asker.pk and mine["client_id"] == "m0" and mine["body"] == "第0条"
    assert first["messages"][1]["client_id"] is None


def test_messages_before_seq_scrolls_back(api, asker, lawyer, conversation):
    for n in range(6):
        send(lawyer, conversation, f"m{n}")
    page = api(asker).get(messages_url(conversation.pk), {"before_seq": 5, "limit": 2}).json()
    assert [m["seq"] for m in page["messages"]] == [3, 4] and page["has_more"] is True


def test_messages_query_count_is_pinned(
    api, asker, lawyer, conversation, django_assert_num_queries
):
    client = api(asker)
    client.get(messages_url(conversation.pk))
    for n in range(10):
        send(lawyer, conversation, f"m{n}")
    # token, membership, the page
    with django_assert_num_queries(3):
        response = client.get(messages_url(conversation.pk), {"limit": 50})
    assert len(response.json()["messages"]) == 10


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 201}, {"after_seq": -1}, {"before_seq": 0}]
)
def test_bad_paging_parameters_get_invalid(api, asker, conversation, params):
    response = api(asker).get(messages_url(conversation.pk), params)
    assert response.status_code == 422 and response.json()["code"] == "invalid"


def test_notice_is_rendered_in_the_readers_language(asker):
    services.notice_send(user=asker, kind="consult_expired", context={"consult": 42})
    inbox = services.platform_inbox(user_id=asker.pk)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {bearer_for(asker)}")
    english = client.get(f"/api/v1/{messages_url(inbox.pk)}", HTTP_ACCEPT_LANGUAGE="en").json()
    chinese = client.get(f"/api/v1/{messages_url(inbox.pk)}", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert "not been charged" in english["messages"][0]["body"]
    assert (
        "#42" in chinese["messages"][0]["body"] and "不会向您收取" in chinese["messages"][0]["body"]
    )
    assert english["messages"][0]["notice"] == {
        "kind": "consult_expired",
        "params": {"consult": 42},
    }


# --- authorization matrix -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("asker", 200),
        ("lawyer", 200),
        ("other_asker", 404),
        ("other_lawyer", 404),
        ("staff", 404),
        (None, 401),
    ],
)
def test_who_may_read_a_conversations_messages(request, api, conversation, asker, who, status):
    send(asker, conversation, "secret", "我的身份证号是…")
    user = request.getfixturevalue(who) if who else None
    response = api(user).get(messages_url(conversation.pk))
    assert response.status_code == status
    if status == 404:
        assert response.json()["code"] == ConversationNotFound.code
        # exactly what a conversation that does not exist answers
        assert response.json() == api(user).get(messages_url(conversation.pk + 1000)).json()
    if status != 200:
        assert "身份证" not in response.content.decode()


@pytest.mark.parametrize("who", ["other_asker", "other_lawyer", "staff"])
def test_outsiders_do_not_see_the_conversation_in_their_list(
    request, api, conversation, asker, who
):
    send(asker, conversation, "secret")
    response = api(request.getfixturevalue(who)).get("conversations")
    assert response.status_code == 200 and response.json() == []


def test_anonymous_cannot_list_conversations(api):
    response = api(None).get("conversations")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"

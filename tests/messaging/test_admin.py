import pytest
from django.test import Client
from django.urls import reverse

from messaging import services
from messaging.models import StaffAccessRecord
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(StaffFactory(is_superuser=True))
    return client


def change_url(conversation) -> str:
    return reverse("admin:messaging_conversation_change", args=[conversation.pk])


def test_staff_must_give_a_reason_before_reading_and_nothing_is_shown_before(
    admin_client, conversation, asker
):
    services.message_send(
        sender=asker, conversation_id=conversation.pk, client_id="c", body="私密内容"
    )
    # when
    response = admin_client.get(change_url(conversation))
    # then
    assert response.status_code == 200
    assert "私密内容" not in response.content.decode()
    assert 'name="reason"' in response.content.decode()
    assert not StaffAccessRecord.objects.exists()


def test_staff_reading_a_conversation_is_recorded_and_text_is_escaped(
    admin_client, conversation, asker
):
    services.message_send(
        sender=asker, conversation_id=conversation.pk, client_id="c", body="<script>x()</script>"
    )
    # when
    response = admin_client.get(change_url(conversation), {"reason": "complaint #12"})
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "&lt;script&gt;x()&lt;/script&gt;" in html and "<script>x()</script>" not in html
    record = StaffAccessRecord.objects.get()
    assert record.conversation_id == conversation.pk and record.reason == "complaint #12"
    assert record.staff.is_staff


def test_conversation_list_in_admin_shows_no_message_text(admin_client, conversation, asker):
    services.message_send(
        sender=asker, conversation_id=conversation.pk, client_id="c", body="私密内容"
    )
    response = admin_client.get(reverse("admin:messaging_conversation_changelist"))
    assert response.status_code == 200 and "私密内容" not in response.content.decode()
    assert not StaffAccessRecord.objects.exists()


def test_access_records_cannot_be_edited_or_deleted(admin_client, conversation):
    record = StaffAccessRecord.objects.create(
        staff=StaffFactory(), conversation=conversation, reason="audit"
    )
    delete = reverse("admin:messaging_staffaccessrecord_delete", args=[record.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert StaffAccessRecord.objects.filter(pk=record.pk).exists()


def test_non_staff_cannot_open_the_admin(conversation, asker):
    client = Client()
    client.force_login(asker)
    response = client.get(change_url(conversation), {"reason": "curious"})
    assert response.status_code == 302 and not StaffAccessRecord.objects.exists()

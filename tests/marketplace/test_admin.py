"""The marketplace's admin: read-only look-ups (lawyer profiles, questions, consults, offers,
verification decisions); the services own every write, and list views show no phone number and
no private text."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from marketplace import services
from marketplace.models import Consult, LawyerProfile
from tests.factories import LawyerProfileFactory, QuestionFactory, StaffFactory
from tests.marketplace.factories import ConsultFactory, OfferFactory

pytestmark = pytest.mark.django_db

MODELS = ("lawyerprofile", "question", "consult", "offer", "verificationdecision")
PRIVATE_BODY = "我欠了信用卡三万元，电话13812345678"


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(StaffFactory(is_superuser=True))
    return client


@pytest.fixture
def world(monkeypatch) -> dict:
    """A lawyer with a phone, verified by staff, holding an offer of a consult from a private
    question."""
    monkeypatch.setattr(services, "_tell_lawyer_of", lambda decision, lawyer_id: None)
    profile = LawyerProfileFactory(verification=LawyerProfile.Verification.PENDING)
    services.lawyer_verify(staff=StaffFactory(), lawyer_id=profile.user_id, approved=True)
    question = QuestionFactory(is_public=False, body=PRIVATE_BODY)
    consult = ConsultFactory(question=question, state=Consult.State.OFFERED)
    offer = OfferFactory(consult=consult, lawyer=profile.user)
    return {"profile": profile, "question": question, "consult": consult, "offer": offer}


@pytest.mark.parametrize("model", MODELS)
def test_each_list_opens_and_shows_no_phone_or_private_text(admin_client, world, model):
    # when
    response = admin_client.get(reverse(f"admin:marketplace_{model}_changelist"))
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert world["profile"].user.phone not in html
    assert world["question"].asker.phone not in html
    assert PRIVATE_BODY not in html


@pytest.mark.parametrize("model", MODELS)
def test_nothing_can_be_added_changed_or_deleted(admin_client, world, model):
    # given one row of each
    obj = {
        "lawyerprofile": world["profile"],
        "question": world["question"],
        "consult": world["consult"],
        "offer": world["offer"],
        "verificationdecision": world["profile"].verification_decisions.get(),
    }[model]
    change = reverse(f"admin:marketplace_{model}_change", args=[obj.pk])
    # when
    viewed = admin_client.get(change)
    added = admin_client.get(reverse(f"admin:marketplace_{model}_add"))
    posted = admin_client.post(change, {"state": "resolved", "verification": "rejected"})
    deleted = admin_client.post(
        reverse(f"admin:marketplace_{model}_delete", args=[obj.pk]), {"post": "yes"}
    )
    # then the row can be read, never written
    assert viewed.status_code == 200
    assert 'type="submit"' not in viewed.content.decode().split('id="content-main"')[1]
    assert added.status_code == 403
    assert posted.status_code == 403
    assert deleted.status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()
    assert LawyerProfile.objects.get(pk=world["profile"].pk).verification == "verified"
    assert Consult.objects.get(pk=world["consult"].pk).state == Consult.State.OFFERED


def test_a_lawyer_profile_shows_its_decisions_and_where_to_decide(admin_client, world):
    profile = world["profile"]

    html = admin_client.get(
        reverse("admin:marketplace_lawyerprofile_change", args=[profile.pk])
    ).content.decode()

    assert f"/dashboard/lawyers/?q={profile.license_number}" in html
    assert profile.verification_decisions.get().decided_by.username in html


@pytest.mark.parametrize(
    ("model", "query"),
    [
        ("lawyerprofile", "license_number"),
        ("consult", "consult_id"),
        ("offer", "lawyer_username"),
    ],
)
def test_lists_can_be_searched(admin_client, world, model, query):
    term = {
        "license_number": world["profile"].license_number,
        "consult_id": str(world["consult"].pk),
        "lawyer_username": world["profile"].user.username,
    }[query]

    response = admin_client.get(reverse(f"admin:marketplace_{model}_changelist"), {"q": term})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_the_dashboard_links_to_the_lawyer_and_consult_lists(admin_client):
    html = admin_client.get("/dashboard/").content.decode()

    assert reverse("admin:marketplace_lawyerprofile_changelist") in html
    assert reverse("admin:marketplace_consult_changelist") in html


def test_the_admin_names_its_sections_and_models_in_the_readers_language(admin_client):
    # when staff open the admin's index in Chinese (the default), then in English
    zh = admin_client.get(reverse("admin:index")).content.decode()
    admin_client.get("/i18n/setlang/", {"language": "en", "next": "/"})
    en = admin_client.get(reverse("admin:index")).content.decode()
    # then sections and models read in that language
    for text in ("咨询与律师", "律师资料", "咨询推送", "支付与结算", "工作人员查阅记录"):
        assert text in zh
    for text in ("Marketplace", "Lawyer profiles", "Consultation offers", "Billing"):
        assert text in en

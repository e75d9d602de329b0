"""Publishing a finished consult as an anonymous public Q&A (qa.services.consult_publish)."""

import pytest

from config.errors import NotFound
from marketplace.models import Consult
from qa import errors, services
from qa.models import Answer, ConsultPublication
from qa.selectors import public_questions
from tests.factories import AskerFactory
from tests.qa.factories import resolved_consult

pytestmark = pytest.mark.django_db

REPLY = "您好,公司拖欠工资可以向劳动监察部门投诉,也可以申请劳动仲裁。我的电话13912345678。"


def publish(consult, user=None, **overrides):
    kwargs = {
        "asker": user or consult.asker,
        "consult_id": consult.pk,
        "title": "公司拖欠工资三个月怎么办",
        "body": "公司拖欠工资三个月,电话13812345678,身份证370102199001011234。",
        "confirm": True,
    }
    return services.consult_publish(**(kwargs | overrides))


def test_publishing_makes_a_new_anonymous_public_question_with_numbers_masked():
    # given
    consult = resolved_consult(replies=[REPLY, "请保留考勤记录和工资条。"])
    # when
    question = publish(consult)
    # then
    assert question.is_public and question.is_anonymous
    assert question.pk != consult.question_id
    assert "13812345678" not in question.body and "138****5678" in question.body
    assert "370102199001011234" not in question.body
    assert ConsultPublication.objects.get(consult=consult).question == question


def test_the_lawyers_replies_become_an_answer_that_waits_for_review():
    # given
    consult = resolved_consult(replies=[REPLY, "请保留考勤记录和工资条。"])
    # when
    question = publish(consult)
    # then
    answer = Answer.objects.get(question=question)
    assert answer.lawyer_id == consult.lawyer_id
    assert answer.status == Answer.Status.PENDING
    assert "139****5678" in answer.body and "请保留考勤记录" in answer.body


def test_the_asker_may_publish_the_question_without_the_answer():
    # given
    consult = resolved_consult(replies=[REPLY])
    # when
    question = publish(consult, include_answer=False)
    # then
    assert not Answer.objects.filter(question=question).exists()


def test_nothing_is_published_without_the_askers_explicit_choice():
    # given
    consult = resolved_consult(replies=[REPLY])
    # when / then
    with pytest.raises(errors.PublishNotConfirmed):
        publish(consult, confirm=False)
    assert not ConsultPublication.objects.exists()


def test_only_the_asker_can_publish():
    # given
    consult = resolved_consult(replies=[REPLY])
    # when / then
    for outsider in (AskerFactory(), consult.lawyer):
        with pytest.raises(NotFound):
            publish(consult, user=outsider)


def test_a_consult_still_in_progress_cannot_be_published():
    # given
    consult = resolved_consult(replies=[REPLY])
    Consult.objects.filter(pk=consult.pk).update(state=Consult.State.ACTIVE)
    # when / then
    with pytest.raises(errors.ConsultNotClosed):
        publish(consult)


def test_a_consult_is_published_once():
    # given
    consult = resolved_consult(replies=[REPLY])
    publish(consult)
    # when / then
    with pytest.raises(errors.AlreadyPublished):
        publish(consult)


def test_the_private_original_question_stays_private():
    # given
    consult = resolved_consult(replies=[REPLY])
    # when
    published = publish(consult)
    # then
    assert list(public_questions()) == [published]

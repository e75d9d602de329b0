"""Q&A factories: public questions, answers in any moderation state, finished consults."""

from __future__ import annotations

import factory
from django.utils import timezone

from marketplace.models import Consult
from messaging.models import Conversation, Message, Participant
from qa.models import Answer, LegalBasis
from tests.factories import AskerFactory, LawyerProfileFactory, QuestionFactory


class PublicQuestionFactory(QuestionFactory):
    """Public and anonymous, as most questions on the Q&A pages are."""

    title = factory.Sequence(lambda n: f"请问信用卡逾期可以减免利息吗 {n}")
    body = "信用卡欠款三万元,已经逾期半年,银行天天催收,利息能不能减免?"
    is_anonymous = True


class AnswerFactory(factory.django.DjangoModelFactory[Answer]):
    """An approved answer by a verified lawyer, unless told otherwise."""

    class Meta:
        model = Answer
        skip_postgeneration_save = True

    question = factory.SubFactory(PublicQuestionFactory)
    lawyer = factory.LazyFunction(lambda: LawyerProfileFactory().user)
    body = "逾期利息原则上需要偿还,可以与银行协商个性化分期还款,分期期限一般不超过五年。"
    status = Answer.Status.APPROVED
    approvals = 1
    review_rounds_required = 1
    published_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def bases(self, create, extracted, **kwargs):
        if create and extracted:
            for position, (statute, article) in enumerate(extracted):
                LegalBasis.objects.create(
                    answer=self, position=position, statute=statute, article=article
                )


def resolved_consult(*, asker=None, lawyer=None, private: bool = True, replies=()) -> Consult:
    """A finished consult between an asker and a lawyer, with the lawyer's chat replies."""
    asker = asker or AskerFactory()
    lawyer = lawyer or LawyerProfileFactory().user
    question = PublicQuestionFactory(
        asker=asker,
        is_public=not private,
        title="公司拖欠工资三个月怎么办",
        body="我在济南上班,电话13812345678,公司拖欠工资三个月不发。",
    )
    conversation = Conversation.objects.create(kind=Conversation.Kind.CONSULT)
    Participant.objects.bulk_create(
        [
            Participant(conversation=conversation, user=asker),
            Participant(conversation=conversation, user=lawyer),
        ]
    )
    for seq, body in enumerate(replies, start=1):
        Message.objects.create(conversation=conversation, seq=seq, sender=lawyer, body=body)
    conversation.last_seq = len(replies)
    conversation.save(update_fields=["last_seq"])
    now = timezone.now()
    return Consult.objects.create(
        question=question,
        asker=asker,
        lawyer=lawyer,
        state=Consult.State.RESOLVED,
        conversation=conversation,
        queued_at=now,
        accepted_at=now,
        first_reply_at=now,
        closed_at=now,
    )

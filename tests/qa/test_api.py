"""The Q&A JSON API: who may do what, the error codes, response shapes and query counts."""

import pytest

from qa.models import Answer, Report
from tests.factories import AskerFactory, LawyerProfileFactory, category, city
from tests.qa.factories import AnswerFactory, PublicQuestionFactory, resolved_consult

pytestmark = pytest.mark.django_db

BODY = "根据法律规定,逾期利息需要偿还,可以与银行协商个性化分期,并保留沟通记录。"


def test_a_verified_lawyer_answers_through_the_api(api, question, verified_lawyer):
    # when
    response = api(verified_lawyer).post(
        f"questions/{question.pk}/answers",
        {"body": BODY, "legal_bases": [{"statute": "刑法", "article": "第二百六十四条"}]},
    )
    # then
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "pending"
    assert data["legal_bases"][0]["citation"] == "《刑法》第二百六十四条"


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("anonymous", 401, "not_authenticated"),
        ("asker", 403, "wrong_role"),
        ("unverified", 403, "lawyer_not_verified"),
    ],
)
def test_only_verified_lawyers_answer(api, question, unverified_lawyer, who, status, code):
    # given
    user = {"anonymous": None, "asker": AskerFactory(), "unverified": unverified_lawyer}[who]
    # when
    response = api(user).post(f"questions/{question.pk}/answers", {"body": BODY})
    # then
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_bad_legal_basis_answers_422_with_its_code(api, question, verified_lawyer):
    # when
    response = api(verified_lawyer).post(
        f"questions/{question.pk}/answers",
        {"body": BODY, "legal_bases": [{"statute": "刑法", "article": "二六四"}]},
    )
    # then
    assert (response.status_code, response.json()["code"]) == (422, "invalid_legal_basis")


def test_pending_answers_are_not_public(api, question, verified_lawyer):
    # given
    api(verified_lawyer).post(f"questions/{question.pk}/answers", {"body": BODY})
    # when
    response = api(None).get(f"questions/{question.pk}/answers")
    # then
    assert response.json() == []


def test_public_answers_mask_phone_numbers_and_say_what_the_viewer_did(
    api, question, asker, other_asker, django_assert_num_queries
):
    # given
    answer = AnswerFactory(
        question=question, body="可以拨打13812345678咨询", bases=[("民法典", "第六百七十六条")]
    )
    AnswerFactory(question=question)
    api(asker).post(f"answers/{answer.pk}/helpful")
    client = api(other_asker)
    client.post(f"answers/{answer.pk}/like")
    # when
    with django_assert_num_queries(4):  # token with its user, question, answers, legal bases
        response = client.get(f"questions/{question.pk}/answers")
    # then
    first = response.json()[0]
    assert first["id"] == answer.pk
    assert first["body"] == "可以拨打138****5678咨询"
    assert (first["liked"], first["marked_helpful"], first["asker_found_helpful"]) == (
        True,
        False,
        True,
    )
    assert first["legal_bases"] == [
        {
            "statute": "民法典",
            "article": "第六百七十六条",
            "citation": "《民法典》第六百七十六条",
            "excerpt": "",
        }
    ]


def test_staff_review_through_the_api_and_others_get_404(api, question, verified_lawyer, staff):
    # given
    answer_id = (
        api(verified_lawyer).post(f"questions/{question.pk}/answers", {"body": BODY}).json()["id"]
    )
    # when
    as_lawyer = api(verified_lawyer).post(
        f"admin/moderation/answers/{answer_id}/review", {"approve": True}
    )
    as_asker = api(question.asker).post(
        f"admin/moderation/answers/{answer_id}/review", {"approve": True}
    )
    no_reason = api(staff).post(f"admin/moderation/answers/{answer_id}/review", {"approve": False})
    approved = api(staff).post(f"admin/moderation/answers/{answer_id}/review", {"approve": True})
    again = api(staff).post(f"admin/moderation/answers/{answer_id}/review", {"approve": True})
    # then
    assert (as_lawyer.status_code, as_asker.status_code) == (404, 404)
    assert (no_reason.status_code, no_reason.json()["code"]) == (422, "reason_required")
    assert approved.json()["status"] == "approved"
    assert (again.status_code, again.json()["code"]) == (409, "answer_not_pending")


def test_the_review_queue_lists_flagged_answers_first(
    api, staff, verified_lawyer, django_assert_num_queries
):
    # given
    calm = PublicQuestionFactory()
    risky = PublicQuestionFactory()
    client = api(verified_lawyer)
    client.post(f"questions/{calm.pk}/answers", {"body": BODY})
    client.post(f"questions/{risky.pk}/answers", {"body": "放心,这个官司包赢,百分百胜诉。"})
    staff_client = api(staff)
    staff_client.get("admin/moderation/answers")  # a token's first use is recorded; not measured
    # when
    with django_assert_num_queries(5):  # token with its user, answers, legal bases, reviews, edits
        queue = staff_client.get("admin/moderation/answers").json()
    # then
    assert [a["question"] for a in queue] == [risky.pk, calm.pk]
    assert queue[0]["is_flagged"] and queue[0]["flags"][0]["code"] == "outcome_promise"


def test_a_lawyer_sees_their_own_answers_with_rejection_reasons(
    api, question, verified_lawyer, staff
):
    # given
    answer_id = (
        api(verified_lawyer).post(f"questions/{question.pk}/answers", {"body": BODY}).json()["id"]
    )
    api(staff).post(
        f"admin/moderation/answers/{answer_id}/review",
        {"approve": False, "reason": "请补充法律依据"},
    )
    # when
    mine = api(verified_lawyer).get("lawyer/answers").json()
    # then
    assert [(a["status"], a["rejection_reason"]) for a in mine] == [("rejected", "请补充法律依据")]


def test_likes_and_helpful_marks_through_the_api(api, answer, other_asker):
    # given
    client = api(other_asker)
    # when
    liked = client.post(f"answers/{answer.pk}/like").json()
    liked_again = client.post(f"answers/{answer.pk}/like").json()
    helpful = client.post(f"answers/{answer.pk}/helpful").json()
    own = api(answer.lawyer).post(f"answers/{answer.pk}/like")
    unliked = client.delete(f"answers/{answer.pk}/like").json()
    # then
    assert liked == liked_again == {"liked": True, "like_count": 1}
    assert helpful == {"marked_helpful": True, "helped_count": 1}
    assert (own.status_code, own.json()["code"]) == (403, "own_answer")
    assert unliked == {"liked": False, "like_count": 0}


def test_anonymous_readers_cannot_like(api, answer):
    # when
    response = api(None).post(f"answers/{answer.pk}/like")
    # then
    assert response.status_code == 401


def test_similar_questions_for_the_ask_form(api, django_assert_num_queries):
    # given
    from qa import search

    wanted = PublicQuestionFactory(
        title="信用卡逾期利息可以减免吗", body="信用卡欠款逾期三个月", city=city("370100")
    )
    other_city = PublicQuestionFactory(
        title="信用卡逾期被起诉", body="信用卡逾期", city=city("110100")
    )
    unrelated = PublicQuestionFactory(
        title="离婚孩子抚养权", body="孩子抚养", category=category("family")
    )
    for q in (wanted, other_city, unrelated):
        search.index_question(q)
    client = api(None)
    # when
    with django_assert_num_queries(1):
        everywhere = client.get("questions/similar", {"text": "信用卡逾期了怎么办"}).json()
    in_jinan = client.get(
        "questions/similar", {"text": "信用卡逾期了怎么办", "city": "370100"}
    ).json()
    too_short = client.get("questions/similar", {"text": "信"}).json()
    unknown_city = client.get("questions/similar", {"text": "信用卡", "city": "999999"})
    # then
    assert {q["id"] for q in everywhere} == {wanted.pk, other_city.pk}
    assert [q["id"] for q in in_jinan] == [wanted.pk]
    assert in_jinan[0]["url"] == f"/questions/{wanted.pk}/"
    assert in_jinan[0]["city_name"] and in_jinan[0]["category"] == "debt"
    assert too_short == []
    assert unknown_city.status_code == 404


def test_the_same_origin_similar_path_answers_the_same(client):
    # given
    from qa import search

    wanted = PublicQuestionFactory(title="交通事故误工费怎么算", body="对方全责")
    search.index_question(wanted)
    # when
    response = client.get("/questions/similar", {"text": "交通事故误工费"})
    # then
    assert response.status_code == 200
    assert [q["id"] for q in response.json()] == [wanted.pk]


def test_reports_through_the_api(api, answer, settings):
    # given
    settings.QA_REPORTS_PER_HOUR = 1
    reader = AskerFactory()
    client = api(reader)
    # when
    created = client.post(
        "reports", {"target_type": "answer", "target_id": answer.pk, "reason": "misleading"}
    )
    duplicate = client.post(
        "reports", {"target_type": "answer", "target_id": answer.pk, "reason": "spam"}
    )
    limited = client.post(
        "reports", {"target_type": "question", "target_id": answer.question_id, "reason": "spam"}
    )
    bad_type = client.post("reports", {"target_type": "user", "target_id": 1, "reason": "spam"})
    anonymous = api(None).post(
        "reports", {"target_type": "answer", "target_id": answer.pk, "reason": "spam"}
    )
    # then
    assert created.status_code == 201 and created.json()["status"] == "open"
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "already_reported")
    assert (limited.status_code, limited.json()["code"]) == (429, "report_rate_limited")
    assert (bad_type.status_code, bad_type.json()["code"]) == (422, "invalid")
    assert anonymous.status_code == 401


def test_staff_decide_reports_through_the_api(api, answer, staff, django_assert_num_queries):
    # given
    for reader in (AskerFactory(), AskerFactory()):
        api(reader).post(
            "reports", {"target_type": "answer", "target_id": answer.pk, "reason": "misleading"}
        )
    lawyer = LawyerProfileFactory().user
    api(AskerFactory()).post(
        "reports", {"target_type": "lawyer", "target_id": lawyer.pk, "reason": "misconduct"}
    )
    client = api(staff)
    client.get("admin/moderation/reports")  # a token's first use is recorded; not measured
    # when
    with django_assert_num_queries(4):  # token with its user, reports, answers, lawyers
        groups = client.get("admin/moderation/reports").json()
    decided = client.post(
        f"admin/moderation/reports/{groups[0]['report_ids'][0]}/decide",
        {"outcome": "upheld", "note": "误导"},
    ).json()
    as_reader = api(AskerFactory()).get("admin/moderation/reports")
    # then
    assert [(g["target_type"], len(g["report_ids"])) for g in groups] == [
        ("answer", 2),
        ("lawyer", 1),
    ]
    assert decided["reports_closed"] == 2 and decided["action"] == "answer_removed"
    assert Answer.objects.get(pk=answer.pk).status == "removed"
    assert as_reader.status_code == 404
    assert Report.objects.filter(status="open").count() == 1


def test_publishing_a_consult_through_the_api(api):
    # given
    consult = resolved_consult(replies=["可以申请劳动仲裁,仲裁时效为一年。"])
    client = api(consult.asker)
    payload = {"title": "公司拖欠工资怎么办", "body": "公司拖欠工资三个月", "confirm": True}
    # when
    unconfirmed = client.post(f"consults/{consult.pk}/publish", payload | {"confirm": False})
    published = client.post(f"consults/{consult.pk}/publish", payload)
    again = client.post(f"consults/{consult.pk}/publish", payload)
    outsider = api(AskerFactory()).post(f"consults/{consult.pk}/publish", payload)
    # then
    assert (unconfirmed.status_code, unconfirmed.json()["code"]) == (422, "publish_not_confirmed")
    assert published.status_code == 201 and published.json()["answer_pending"] is True
    assert (again.status_code, again.json()["code"]) == (409, "already_published")
    assert outsider.status_code == 404


def test_a_lawyer_withdraws_their_answer_through_the_api(api, verified_lawyer):
    # given a published answer of the lawyer's
    answer = AnswerFactory(lawyer=verified_lawyer)
    client = api(verified_lawyer)
    # when / then
    first = client.post(f"lawyer/answers/{answer.pk}/withdraw", {})
    again = client.post(f"lawyer/answers/{answer.pk}/withdraw", {})
    assert (first.status_code, first.json()["status"]) == (200, "withdrawn")
    assert (again.status_code, again.json()["code"]) == (409, "answer_not_withdrawable")
    assert (
        api(LawyerProfileFactory().user)
        .post(f"lawyer/answers/{answer.pk}/withdraw", {})
        .status_code
        == 404
    )


# --- editing an answer --------------------------------------------------------------------
EDITED = "补充:协商分期时请保留通话录音和书面材料,银行拒绝的可以向金融监管部门投诉。"


def test_a_lawyer_edits_a_published_answer_and_staff_approve_the_edit(api, answer, staff):
    # given a published answer (approved by the fixture) and its lawyer
    lawyer = api(answer.lawyer)
    published = answer.body
    # when the lawyer edits its text through the API, keeping its legal bases
    response = lawyer.patch(f"answers/{answer.pk}", {"body": EDITED})
    # then the answer is still the published one, with the edit waiting beside it
    assert response.status_code == 200
    data = response.json()
    assert (data["status"], data["body"], data["revision"]) == ("approved", published, 1)
    assert data["edit"]["status"] == "pending" and data["edit"]["body"] == EDITED
    assert [b["citation"] for b in data["edit"]["legal_bases"]] == ["《刑法》第二百六十四条"]
    public = api(None).get(f"questions/{answer.question_id}/answers").json()
    assert (public[0]["body"], public[0]["edited_at"]) == (published, None)
    # and staff see it in the queue as an edit, the published text beside it
    (item,) = api(staff).get("admin/moderation/answers").json()
    assert (item["id"], item["body"], item["revision"]) == (answer.pk, EDITED, 1)
    assert item["edit"]["published_body"] == published
    # when staff approve the revision they read
    review = api(staff).post(
        f"admin/moderation/answers/{answer.pk}/review", {"approve": True, "expected": 1}
    )
    # then the edit is published in the answer's place, marked edited
    assert review.status_code == 200
    assert review.json()["edit"] == {
        "revision": 1,
        "status": "approved",
        "approvals": 1,
        "review_rounds_required": 1,
        "rejection_reason": "",
    }
    public = api(None).get(f"questions/{answer.question_id}/answers").json()
    assert public[0]["body"] == EDITED and public[0]["edited_at"] is not None
    assert lawyer.get("lawyer/answers").json()[0]["edit"] is None


def test_a_review_of_an_edit_changed_since_answers_409(api, answer, staff):
    # given an edit the reviewer read as revision 1, edited again since
    api(answer.lawyer).patch(f"answers/{answer.pk}", {"body": EDITED})
    api(answer.lawyer).patch(f"answers/{answer.pk}", {"body": EDITED + "再补充一句。"})
    # when
    response = api(staff).post(
        f"admin/moderation/answers/{answer.pk}/review", {"approve": True, "expected": 1}
    )
    # then
    assert (response.status_code, response.json()["code"]) == (409, "answer_changed")


def test_a_rejected_edit_shows_its_reason_to_the_lawyer(api, answer, staff):
    # given
    api(answer.lawyer).patch(f"answers/{answer.pk}", {"body": EDITED})
    # when
    api(staff).post(
        f"admin/moderation/answers/{answer.pk}/review", {"approve": False, "reason": "引用错误"}
    )
    # then
    (mine,) = api(answer.lawyer).get("lawyer/answers").json()
    assert (mine["status"], mine["body"]) == ("approved", answer.body)
    assert (mine["edit"]["status"], mine["edit"]["rejection_reason"]) == ("rejected", "引用错误")


@pytest.mark.parametrize(
    ("who", "status", "payload", "code"),
    [
        ("anonymous", 401, {"body": EDITED}, "not_authenticated"),
        ("asker", 403, {"body": EDITED}, "wrong_role"),
        ("other lawyer", 404, {"body": EDITED}, "not_found"),
        ("unverified", 403, {"body": EDITED}, "lawyer_not_verified"),
        ("author", 422, {"body": "太短"}, "invalid_answer"),
        (
            "author",
            422,
            {"legal_bases": [{"statute": "刑法", "article": "某条"}]},
            "invalid_legal_basis",
        ),
        ("author", 422, {"body": 12}, "invalid"),
    ],
)
def test_who_may_edit_and_what_an_edit_is_checked_for(api, answer, who, status, payload, code):
    # given
    if who == "unverified":
        from marketplace.models import LawyerProfile

        LawyerProfile.objects.filter(user=answer.lawyer).update(verification="rejected")
    user = {
        "anonymous": None,
        "asker": AskerFactory(),
        "other lawyer": LawyerProfileFactory().user,
    }.get(who, answer.lawyer)
    # when
    response = api(user).patch(f"answers/{answer.pk}", payload)
    # then
    assert (response.status_code, response.json()["code"]) == (status, code)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("removed", "answer_removed"),
        ("rejected", "answer_not_editable"),
        ("withdrawn", "answer_not_editable"),
    ],
)
def test_closed_answers_cannot_be_edited(api, answer, status, code):
    # given
    Answer.objects.filter(pk=answer.pk).update(status=status)
    # when
    response = api(answer.lawyer).patch(f"answers/{answer.pk}", {"body": EDITED})
    # then
    assert (response.status_code, response.json()["code"]) == (409, code)


def test_staff_read_an_answers_history_and_others_get_404(api, answer, staff):
    # given two edits of a published answer, the first replaced by the second
    published = answer.body
    api(answer.lawyer).patch(f"answers/{answer.pk}", {"body": EDITED})
    api(answer.lawyer).patch(f"answers/{answer.pk}", {"body": EDITED + "再补充一句。"})
    # when
    history = api(staff).get(f"admin/moderation/answers/{answer.pk}/revisions")
    # then
    assert [(r["revision"], r["status"]) for r in history.json()] == [
        (1, "replaced"),
        (2, "pending"),
    ]
    assert history.json()[1]["previous_body"] == published
    assert (
        api(answer.lawyer).get(f"admin/moderation/answers/{answer.pk}/revisions").status_code == 404
    )
    assert (
        api(staff).get(f"admin/moderation/answers/{answer.pk + 999}/revisions").status_code == 404
    )

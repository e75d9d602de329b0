"""marketplace.matching: who gets a consult's offers, widening, expiry, idempotency."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import realtime
from marketplace import consult_states, matching, presence, services
from marketplace.models import Consult, Offer
from tests.concurrency import run_at_once
from tests.factories import category, city
from tests.marketplace.conftest import put_online
from tests.marketplace.factories import ConsultFactory, QuestionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("matching_settings")]
State = Consult.State
JINAN, QINGDAO, SHANDONG, BEIJING = "370100", "370200", "370000", "110100"


def new_consult(
    *, city_code: str = JINAN, slug: str = "debt", waited: float = 0, **fields
) -> Consult:
    queued_at = timezone.now() - timedelta(seconds=waited)
    return ConsultFactory(
        question=QuestionFactory(city=city(city_code), category=category(slug)),
        queued_at=queued_at,
        scope_widened_at=queued_at,
        **fields,
    )


def offered_to(consult: Consult) -> set[int]:
    return set(
        Offer.objects.filter(consult=consult, state=Offer.State.PENDING).values_list(
            "lawyer_id", flat=True
        )
    )


def test_online_lawyers_serving_the_city_get_offers(make_lawyer):
    # given
    local = [make_lawyer(home=JINAN) for _ in range(2)]
    make_lawyer(home=JINAN, online=False)
    make_lawyer(home=QINGDAO, serves=[QINGDAO])
    consult = new_consult()
    # when
    result = matching.match_consult(consult_id=consult.pk, search_round=0)
    # then
    assert offered_to(consult) == {p.user_id for p in local}
    consult.refresh_from_db()
    assert (consult.state, consult.search_scope, consult.search_round) == (State.OFFERED, "city", 1)
    assert consult.first_offered_at is not None
    offer = Offer.objects.get(pk=result.offer_ids[0])
    assert offer.scope == "city" and offer.search_round == 1
    expected = offer.created_at + timedelta(seconds=60)
    assert abs((offer.expires_at - expected).total_seconds()) < 1


def test_the_offers_go_out_before_the_askers_update_after_commit(
    make_lawyer, django_capture_on_commit_callbacks, monkeypatch
):
    # given two lawyers online and a queued consult; every push still goes to Redis
    lawyers = {make_lawyer(home=JINAN).user_id for _ in range(2)}
    consult = new_consult()
    publisher, sent = realtime._get_publisher(), []

    class Recording:
        def publish_many(self, pushes):
            pushes = list(pushes)
            sent.extend((frame["type"], tuple(ids)) for ids, frame in pushes)
            publisher.publish_many(pushes)

    monkeypatch.setattr(realtime, "_get_publisher", Recording)
    # when the pass commits
    with django_capture_on_commit_callbacks(execute=True):
        result = matching.match_consult(consult_id=consult.pk, search_round=0)
    # then the lawyers hear of their offers first, then the asker of the search
    assert len(result.offer_ids) == 2
    assert [kind for kind, _ in sent] == ["offer.new", "offer.new", "consult.updated"]
    assert {ids for _, ids in sent[:2]} == {(lawyer,) for lawyer in lawyers}
    assert sent[2][1] == (consult.asker_id,)


def test_lawyer_serving_the_whole_province_counts_for_its_cities(make_lawyer):
    provincial = make_lawyer(home=QINGDAO, serves=[SHANDONG])
    consult = new_consult()

    matching.match_consult(consult_id=consult.pk)

    assert offered_to(consult) == {provincial.user_id}


def test_only_the_best_k_get_offers(make_lawyer, settings):
    # given
    settings.MATCH_OFFER_TOP_K = 2
    fastest = make_lawyer(response_p50_seconds=30)
    fast = make_lawyer(response_p50_seconds=60)
    make_lawyer(response_p50_seconds=600)
    make_lawyer(response_p50_seconds=900)
    consult = new_consult()
    # when
    matching.match_consult(consult_id=consult.pk)
    # then
    assert offered_to(consult) == {fastest.user_id, fast.user_id}


@pytest.mark.parametrize(
    "kind",
    ["away", "offline", "unverified", "other_category", "asker_is_lawyer"],
)
def test_lawyers_who_cannot_take_it_get_nothing(make_lawyer, kind):
    # given
    if kind == "away":
        make_lawyer(online="away")
    elif kind == "offline":
        make_lawyer(online=False)
    elif kind == "unverified":
        make_lawyer(verification="pending")
    elif kind == "other_category":
        make_lawyer(practises=["labour"])
    consult = new_consult()
    if kind == "asker_is_lawyer":
        profile = make_lawyer()
        consult.asker = profile.user
        consult.save()
    # when
    result = matching.match_consult(consult_id=consult.pk)
    # then
    assert result.offer_ids == []
    consult.refresh_from_db()
    assert consult.state == State.QUEUED


def test_lawyer_at_capacity_gets_nothing(make_lawyer):
    busy = make_lawyer(capacity=1)
    ConsultFactory(state=State.ACTIVE, lawyer=busy.user)
    consult = new_consult()

    assert matching.match_consult(consult_id=consult.pk).offer_ids == []


def test_free_consult_goes_only_to_lawyers_whose_price_is_zero(make_lawyer):
    free = make_lawyer(price=0)
    make_lawyer(price=3000)
    consult = new_consult(price=0)

    matching.match_consult(consult_id=consult.pk)

    assert offered_to(consult) == {free.user_id}


def test_paid_consult_goes_to_lawyers_priced_at_or_below_it(make_lawyer):
    cheaper = make_lawyer(price=4000)
    same = make_lawyer(price=5000)
    free = make_lawyer(price=0)
    make_lawyer(price=6000)
    make_lawyer(price=4000, currency="USD")
    consult = new_consult(is_paid=True, price=5000, currency="CNY")

    matching.match_consult(consult_id=consult.pk)

    assert offered_to(consult) == {cheaper.user_id, same.user_id, free.user_id}


def test_search_stays_in_the_city_before_its_wait(make_lawyer, settings):
    settings.MATCH_WIDEN_TO_PROVINCE_SECONDS = 30
    make_lawyer(home=QINGDAO, serves=[QINGDAO])
    consult = new_consult(waited=10)

    result = matching.match_consult(consult_id=consult.pk)

    assert result.offer_ids == [] and result.scope == "city"


def test_search_widens_to_the_province_after_its_wait(make_lawyer, settings):
    # given
    settings.MATCH_WIDEN_TO_PROVINCE_SECONDS = 30
    qingdao = make_lawyer(home=QINGDAO, serves=[QINGDAO])
    make_lawyer(home=BEIJING, serves=[BEIJING])
    consult = new_consult(waited=31)
    # when
    matching.match_consult(consult_id=consult.pk)
    # then
    assert offered_to(consult) == {qingdao.user_id}
    consult.refresh_from_db()
    assert consult.search_scope == "province"
    assert Offer.objects.get(consult=consult).scope == "province"


def test_search_widens_nationwide_ignoring_regions_served(make_lawyer, settings):
    # given
    settings.MATCH_WIDEN_TO_PROVINCE_SECONDS = 30
    settings.MATCH_WIDEN_TO_NATION_SECONDS = 60
    beijing = make_lawyer(home=BEIJING, serves=[BEIJING])
    consult = new_consult(waited=95)
    # when
    matching.match_consult(consult_id=consult.pk)
    # then
    assert offered_to(consult) == {beijing.user_id}
    consult.refresh_from_db()
    assert consult.search_scope == "nation"


def test_closer_lawyers_rank_first_in_a_wide_search(make_lawyer, settings):
    settings.MATCH_OFFER_TOP_K = 1
    settings.MATCH_WIDEN_TO_PROVINCE_SECONDS = 0
    settings.MATCH_WIDEN_TO_NATION_SECONDS = 0
    make_lawyer(home=BEIJING, serves=[BEIJING])
    in_province = make_lawyer(home=QINGDAO, serves=[QINGDAO])
    consult = new_consult(waited=1)

    matching.match_consult(consult_id=consult.pk)

    assert offered_to(consult) == {in_province.user_id}


def test_sweep_widens_searches_that_waited_long_enough(make_lawyer, settings):
    # given
    settings.MATCH_WIDEN_TO_PROVINCE_SECONDS = 30
    qingdao = make_lawyer(home=QINGDAO, serves=[QINGDAO])
    seen = timezone.now() - timedelta(seconds=1)
    waited = new_consult(waited=40, matched_at=seen)
    recent = new_consult(waited=5, matched_at=seen)
    # when
    swept = matching.sweep_waiting()
    # then
    assert swept == 1
    assert offered_to(waited) == {qingdao.user_id}
    assert offered_to(recent) == set()


def test_sweep_matches_a_consult_whose_task_was_lost(make_lawyer):
    local = make_lawyer()
    lost = new_consult(waited=5)
    just_queued = new_consult(waited=0)

    assert matching.sweep_waiting() == 1

    assert offered_to(lost) == {local.user_id}
    assert offered_to(just_queued) == set()


def test_sweep_looks_again_at_consults_nobody_looked_at_lately(make_lawyer, settings):
    # given: a lawyer came online but the trigger that would have matched them was lost
    settings.MATCH_RESCAN_SECONDS = 15
    local = make_lawyer()
    stale = new_consult(waited=20, matched_at=timezone.now() - timedelta(seconds=16))
    fresh = new_consult(waited=20, matched_at=timezone.now() - timedelta(seconds=3))
    # when
    matching.sweep_waiting()
    # then
    assert offered_to(stale) == {local.user_id}
    assert offered_to(fresh) == set()


def test_sweep_goes_on_past_a_consult_whose_pass_fails(make_lawyer, monkeypatch):
    # given two consults due a pass, the older one failing
    local = make_lawyer()
    failing = new_consult(waited=10)
    other = new_consult(waited=5)
    real_pass = matching.match_consult

    def match_consult(*, consult_id, search_round=None):
        if consult_id == failing.pk:
            raise ValueError("boom")
        return real_pass(consult_id=consult_id, search_round=search_round)

    monkeypatch.setattr(matching, "match_consult", match_consult)
    # when
    matching.sweep_waiting()
    # then the later one still got its pass
    assert offered_to(other) == {local.user_id}
    assert offered_to(failing) == set()


def test_sweep_counts_waiting_consults_for_arriving_lawyers(redis_client):
    new_consult()
    new_consult()
    new_consult(state=State.OFFERED)

    matching.sweep_waiting()

    assert int(redis_client.get(presence.key("matching", "waiting"))) == 2


def test_a_queued_consult_tells_arriving_lawyers_to_look(
    django_capture_on_commit_callbacks, redis_client, monkeypatch
):
    from marketplace.tasks import match_consult

    monkeypatch.setattr(match_consult, "apply_async", lambda *args, **kwargs: None)
    presence.set_waiting(0)
    question = QuestionFactory()

    with django_capture_on_commit_callbacks(execute=True):
        services.consult_create(asker=question.asker, question_id=question.pk)

    assert int(redis_client.get(presence.key("matching", "waiting"))) == 1


def test_a_freed_seat_sends_the_lawyer_looking_for_waiting_consults(
    make_lawyer, django_capture_on_commit_callbacks, monkeypatch
):
    # given: a lawyer at capacity and a consult nobody could take
    from marketplace.tasks import match_for_lawyer

    enqueued = []
    monkeypatch.setattr(match_for_lawyer, "apply_async", lambda args, kw: enqueued.append(args))
    busy = make_lawyer(capacity=1)
    active = ConsultFactory(state=State.ACTIVE, lawyer=busy.user)
    waiting = new_consult()
    assert matching.match_consult(consult_id=waiting.pk).offer_ids == []
    # when
    with django_capture_on_commit_callbacks(execute=True):
        services.consult_close(user=busy.user, consult_id=active.pk)
    # then
    assert enqueued == [(busy.user_id,)]
    assert matching.match_for_lawyer(lawyer_id=busy.user_id) == 1
    assert offered_to(waiting) == {busy.user_id}


def test_every_pass_records_when_it_looked(make_lawyer):
    consult = new_consult()

    matching.match_consult(consult_id=consult.pk)

    consult.refresh_from_db()
    assert consult.matched_at is not None


def test_a_pass_for_an_old_round_does_nothing(make_lawyer):
    # given
    make_lawyer()
    make_lawyer()
    consult = new_consult()
    first = matching.match_consult(consult_id=consult.pk, search_round=0)
    # when: the same task delivered again
    again = matching.match_consult(consult_id=consult.pk, search_round=0)
    # then
    assert len(first.offer_ids) == 2
    assert again.offer_ids == [] and again.skipped == "stale round"
    assert Offer.objects.filter(consult=consult).count() == 2


def test_nobody_online_then_a_fitting_lawyer_arrives(make_lawyer):
    # given
    lawyer = make_lawyer(online=False)
    make_lawyer(practises=["labour"], online=False)
    consult = new_consult()
    presence.note_waiting()
    assert matching.match_consult(consult_id=consult.pk).offer_ids == []
    # when
    assert put_online(lawyer) is True
    made = matching.match_for_lawyer(lawyer_id=lawyer.user_id)
    # then
    assert made == 1
    assert offered_to(consult) == {lawyer.user_id}


def test_arriving_lawyer_is_not_offered_consults_outside_their_region_or_field(make_lawyer):
    lawyer = make_lawyer(home=JINAN, serves=[JINAN])
    new_consult(city_code=QINGDAO)
    new_consult(slug="criminal")

    assert matching.match_for_lawyer(lawyer_id=lawyer.user_id) == 0


def test_arriving_lawyer_gets_nationwide_searches_anywhere(make_lawyer):
    lawyer = make_lawyer(home=BEIJING, serves=[BEIJING])
    consult = new_consult(city_code=QINGDAO, search_scope="nation")

    assert matching.match_for_lawyer(lawyer_id=lawyer.user_id) == 1
    assert offered_to(consult) == {lawyer.user_id}


def test_named_lawyer_is_offered_first_and_alone(make_lawyer):
    # given
    named = make_lawyer(home=BEIJING, serves=[BEIJING], practises=["labour"])
    [make_lawyer() for _ in range(3)]
    consult = new_consult(requested_lawyer=named.user)
    # when
    matching.match_consult(consult_id=consult.pk)
    # then
    assert offered_to(consult) == {named.user_id}


def test_after_the_named_lawyer_lets_it_expire_others_are_offered_in_the_same_scope(
    make_lawyer, django_capture_on_commit_callbacks
):
    # given
    named = make_lawyer(home=BEIJING, serves=[BEIJING])
    others = {make_lawyer().user_id for _ in range(3)}
    consult = new_consult(requested_lawyer=named.user)
    matching.match_consult(consult_id=consult.pk)
    # when
    later = timezone.now() + timedelta(seconds=61)
    assert matching.expire_due_offers(now=later) == 1
    consult.refresh_from_db()
    matching.match_consult(consult_id=consult.pk, search_round=consult.search_round)
    # then
    consult.refresh_from_db()
    assert consult.search_scope == "city"
    assert offered_to(consult) == others


def test_offline_named_lawyer_does_not_hold_the_consult_back(make_lawyer):
    named = make_lawyer(online=False)
    other = make_lawyer()
    consult = new_consult(requested_lawyer=named.user)

    matching.match_consult(consult_id=consult.pk)
    assert offered_to(consult) == {other.user_id}

    put_online(named)
    matching.match_for_lawyer(lawyer_id=named.user_id)
    assert offered_to(consult) == {other.user_id, named.user_id}


def test_expired_offers_send_the_consult_back_one_scope_wider(make_lawyer):
    # given
    jinan = make_lawyer(home=JINAN, serves=[JINAN])
    qingdao = make_lawyer(home=QINGDAO, serves=[QINGDAO])
    consult = new_consult()
    matching.match_consult(consult_id=consult.pk)
    assert offered_to(consult) == {jinan.user_id}
    # when
    expired = matching.expire_due_offers(now=timezone.now() + timedelta(seconds=61))
    # then
    assert expired == 1
    consult.refresh_from_db()
    assert (consult.state, consult.search_scope) == (State.QUEUED, "province")
    assert Offer.objects.get(lawyer=jinan.user).state == Offer.State.EXPIRED
    # and the next pass reaches the province, never the lawyer who let it expire
    matching.match_consult(consult_id=consult.pk, search_round=consult.search_round)
    assert offered_to(consult) == {qingdao.user_id}


def test_offer_expiry_goes_on_past_a_consult_whose_expiry_fails(make_lawyer, monkeypatch):
    # given two consults with offers past their time, one failing to expire
    for _ in range(2):
        make_lawyer()
    failing, other = new_consult(), new_consult()
    matching.match_consult(consult_id=failing.pk)
    matching.match_consult(consult_id=other.pk)
    real_expire = matching.expire_offers_of

    def expire_offers_of(*, consult_id, now):
        if consult_id == failing.pk:
            raise ValueError("boom")
        return real_expire(consult_id=consult_id, now=now)

    monkeypatch.setattr(matching, "expire_offers_of", expire_offers_of)
    # when
    expired = matching.expire_due_offers(now=timezone.now() + timedelta(seconds=61))
    # then
    assert expired == Offer.objects.filter(consult=other).count() > 0
    assert not Offer.objects.filter(consult=other, state=Offer.State.PENDING).exists()
    assert Offer.objects.filter(consult=failing, state=Offer.State.PENDING).exists()


def test_offers_not_yet_due_are_left_alone(make_lawyer):
    make_lawyer()
    consult = new_consult()
    matching.match_consult(consult_id=consult.pk)

    assert matching.expire_due_offers(now=timezone.now() + timedelta(seconds=30)) == 0
    consult.refresh_from_db()
    assert consult.state == State.OFFERED


def test_a_decline_tops_the_offers_up_from_the_next_candidates(make_lawyer, settings):
    # given
    settings.MATCH_OFFER_TOP_K = 2
    first = make_lawyer(response_p50_seconds=10)
    second = make_lawyer(response_p50_seconds=20)
    third = make_lawyer(response_p50_seconds=30)
    consult = new_consult()
    matching.match_consult(consult_id=consult.pk)
    offer = Offer.objects.get(consult=consult, lawyer=first.user)
    # when
    services.offer_decline(offer_id=offer.pk, lawyer=first.user)
    matching.match_consult(consult_id=consult.pk)
    # then
    assert offered_to(consult) == {second.user_id, third.user_id}
    consult.refresh_from_db()
    assert consult.state == State.OFFERED


def test_when_every_offer_is_declined_the_consult_is_queued_again(make_lawyer):
    lawyer = make_lawyer()
    consult = new_consult()
    matching.match_consult(consult_id=consult.pk)

    services.offer_decline(offer_id=Offer.objects.get().pk, lawyer=lawyer.user)

    consult.refresh_from_db()
    assert consult.state == State.QUEUED
    assert matching.match_consult(consult_id=consult.pk).offer_ids == []


def test_a_consult_no_longer_searching_is_never_offered(make_lawyer):
    make_lawyer()
    consult = new_consult()
    consult_states.consult_cancel(consult_id=consult.pk)

    result = matching.match_consult(consult_id=consult.pk)

    assert result.offer_ids == [] and result.skipped == "not searching"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("live", [0, 1], ids=["first offers", "top-up"])
def test_ten_passes_at_once_fill_the_offers_once(make_lawyer, live):
    # given more fitting lawyers than offers, a consult holding `live` offers already, and
    # passes that run whatever the round (as top-ups do)
    lawyers = {make_lawyer().user_id for _ in range(6)}
    consult = new_consult()
    if live:
        matching.match_consult(consult_id=consult.pk)
        kept = Offer.objects.filter(consult=consult).order_by("pk").first()
        Offer.objects.filter(consult=consult).exclude(pk=kept.pk).update(state=Offer.State.DECLINED)
    # when
    results = run_at_once([lambda: matching.match_consult(consult_id=consult.pk)] * 10)
    # then
    assert not [r for r in results if isinstance(r, Exception)], results
    pending = Offer.objects.filter(consult=consult, state=Offer.State.PENDING)
    assert pending.count() == 3
    assert set(pending.values_list("lawyer_id", flat=True)) <= lawyers
    assert sum(len(r.offer_ids) for r in results) == 3 - live
    consult.refresh_from_db()
    assert (consult.state, consult.search_round) == (State.OFFERED, 1 + live)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("attempt", range(5))
def test_a_pass_racing_a_cancel_leaves_no_live_offer(make_lawyer, attempt):
    for _ in range(3):
        make_lawyer()
    consult = new_consult()

    results = run_at_once(
        [
            lambda: matching.match_consult(consult_id=consult.pk, search_round=0),
            lambda: consult_states.consult_cancel(consult_id=consult.pk),
        ]
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert Consult.objects.get(pk=consult.pk).state == State.CANCELED
    assert not Offer.objects.filter(consult=consult, state=Offer.State.PENDING).exists()


# --- who could take a consult before it is asked ----------------------------------------
def test_ready_in_city_counts_whom_the_city_stage_would_offer(make_lawyer, asker):
    # given lawyers in Jinan: two free, one at ¥49, one at ¥200, one free but away,
    # one free but in another practice area, one free but offline; one free in Qingdao
    for _ in range(2):
        make_lawyer(home=JINAN, price=0)
    make_lawyer(home=JINAN, price=4900)
    make_lawyer(home=JINAN, price=20000)
    make_lawyer(home=JINAN, price=0, online="away")
    make_lawyer(home=JINAN, price=0, practises=["labour"])
    make_lawyer(home=JINAN, price=0, online=False)
    make_lawyer(home=QINGDAO, price=0)

    def ready(price: int, slug: str = "debt") -> int:
        return matching.ready_in_city(
            city=city(JINAN),
            category=category(slug),
            price=price,
            currency="CNY",
            asker_id=asker.pk,
        )

    # then: free reaches only the free lawyers; a price, everyone at or below it (the free
    # ones too); labour its own lawyer
    assert (ready(0), ready(10000), ready(30000), ready(0, "labour")) == (2, 3, 4, 1)
    assert not Consult.objects.exists()

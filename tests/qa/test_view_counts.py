import threading

import pytest
from django.db import connections

from marketplace.models import Question
from qa import view_counts
from qa.models import ViewFlushBatch
from tests.qa.factories import PublicQuestionFactory


def view(question: Question, times: int = 1) -> None:
    for _ in range(times):
        view_counts.view_record(question.pk)


def views_of(question: Question) -> int:
    return Question.objects.values_list("view_count", flat=True).get(pk=question.pk)


@pytest.mark.django_db
def test_a_view_is_counted_in_redis_without_touching_the_database(django_assert_num_queries):
    # given
    question = PublicQuestionFactory()
    # when
    with django_assert_num_queries(0):
        pending = view_counts.view_record(question.pk)
    # then
    assert pending == 1
    assert views_of(question) == 0


@pytest.mark.django_db
def test_flush_adds_the_counted_views_to_the_questions():
    # given
    first, second = PublicQuestionFactory(view_count=10), PublicQuestionFactory()
    view(first, 3)
    view(second, 2)
    # when
    result = view_counts.views_flush()
    # then
    assert (views_of(first), views_of(second)) == (13, 2)
    assert (result.questions, result.views) == (2, 5)
    assert view_counts.views_pending(first.pk) == 0


@pytest.mark.django_db
def test_flushing_twice_adds_the_views_once():
    # given
    question = PublicQuestionFactory()
    view(question, 4)
    # when
    view_counts.views_flush()
    again = view_counts.views_flush()
    # then
    assert views_of(question) == 4
    assert again.views == 0


@pytest.mark.django_db
def test_a_flush_that_crashes_mid_batch_loses_nothing_and_the_next_adds_it_once(
    monkeypatch, settings
):
    # given: three questions, flushed one UPDATE per question, crashing on the second
    settings.QA_VIEW_FLUSH_CHUNK = 1
    questions = [PublicQuestionFactory() for _ in range(3)]
    for q in questions:
        view(q, 2)
    real_execute = None
    calls = {"updates": 0}

    from django.db.backends.utils import CursorWrapper

    real_execute = CursorWrapper.execute

    def crashing_execute(self, sql, params=None):
        if sql.startswith("UPDATE") and "view_count" in sql:
            calls["updates"] += 1
            if calls["updates"] == 2:
                raise ConnectionError("worker killed mid-batch")
        return real_execute(self, sql, params)

    monkeypatch.setattr(CursorWrapper, "execute", crashing_execute)
    with pytest.raises(ConnectionError):
        view_counts.views_flush()
    monkeypatch.setattr(CursorWrapper, "execute", real_execute)
    assert [views_of(q) for q in questions] == [0, 0, 0]  # the batch's transaction rolled back
    # when
    view(questions[0])  # a view that arrives before the retry
    view_counts.views_flush()
    # then
    assert [views_of(q) for q in questions] == [3, 2, 2]


@pytest.mark.django_db
def test_a_flush_that_crashes_after_commit_is_not_added_again(monkeypatch):
    # given: the database got the batch but the process died before clearing it in Redis
    question = PublicQuestionFactory()
    view(question, 5)

    class Died(Exception):
        pass

    real_pipeline = view_counts.get_redis().__class__.pipeline

    def dying_pipeline(self, *args, **kwargs):
        raise Died()

    monkeypatch.setattr(view_counts.get_redis().__class__, "pipeline", dying_pipeline)
    with pytest.raises(Died):
        view_counts.views_flush()
    monkeypatch.setattr(view_counts.get_redis().__class__, "pipeline", real_pipeline)
    assert views_of(question) == 5
    # when
    result = view_counts.views_flush()
    # then
    assert views_of(question) == 5
    assert result.batches == 1 and result.views == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_flushes_add_every_view_exactly_once():
    # given
    questions = [PublicQuestionFactory() for _ in range(20)]
    for n, q in enumerate(questions):
        view(q, n + 1)
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def flush() -> None:
        try:
            start.wait()
            for _ in range(3):
                view_counts.views_flush()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=flush) for _ in range(4)]
    # when
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then
    assert errors == []
    assert [views_of(q) for q in questions] == [n + 1 for n in range(20)]


@pytest.mark.django_db
def test_old_batch_markers_are_forgotten(settings):
    # given
    from datetime import timedelta

    from django.utils import timezone

    old = ViewFlushBatch.objects.create(batch_id="old")
    ViewFlushBatch.objects.filter(pk=old.pk).update(flushed_at=timezone.now() - timedelta(days=3))
    # when
    view_counts.views_flush()
    # then
    assert not ViewFlushBatch.objects.filter(batch_id="old").exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_beat_task_flushes_on_a_real_worker(celery_test_worker):
    # given
    from qa.tasks import views_flush

    question = PublicQuestionFactory()
    view(question, 7)
    # when
    added = views_flush.apply_async(ignore_result=False).get(timeout=20)
    # then
    assert added == 7
    assert views_of(question) == 7


def test_the_flush_is_on_the_beat_schedule():
    # given
    from workers.schedule import BEAT_SCHEDULE

    # when
    entry = BEAT_SCHEDULE["qa-views-flush"]
    # then
    assert entry["task"] == "qa.views_flush"
    assert entry["options"]["queue"] == "periodic"

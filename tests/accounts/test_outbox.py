"""The outbox of account mails (accounts.outbox): a mail asked for is a row written with the
change; its task or beat's sweep sends it once; what cannot be sent is given up in bounds."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import AccountMail
from accounts.outbox import KEEP_DONE_DAYS, account_mail_deliver, account_mail_queue
from accounts.tasks import account_mail_send_task, account_mails_sweep_task
from tests.accounts.mails import mail_row, run_mail_task, tasks_asked, wait_for_mail
from tests.factories import TEST_PASSWORD, AskerFactory

pytestmark = pytest.mark.django_db

CHANGED = AccountMail.Kind.PASSWORD_CHANGED
State = AccountMail.State


@pytest.fixture
def member(db):
    return AskerFactory(email="li.ming@example.cn", phone="13912345678")


def aged(row: AccountMail, *, seconds: float, attempted: float | None = None) -> AccountMail:
    """The row as if asked for `seconds` ago (and last tried `attempted` seconds ago)."""
    now = timezone.now()
    row.created_at = now - timedelta(seconds=seconds)
    row.attempted_at = None if attempted is None else now - timedelta(seconds=attempted)
    row.save(update_fields=["created_at", "attempted_at"])
    return row


# --- asking -----------------------------------------------------------------------------------
def test_a_mail_asked_for_in_a_change_that_rolls_back_is_not_asked_for(
    member, django_capture_on_commit_callbacks
):
    def a_change_that_fails() -> None:
        with transaction.atomic():
            account_mail_queue(user=member, kind=CHANGED, language="en")
            raise RuntimeError("the change failed")

    with django_capture_on_commit_callbacks() as after_commit, pytest.raises(RuntimeError):
        a_change_that_fails()

    assert not AccountMail.objects.exists()
    assert after_commit == []  # no task either


def test_the_task_is_queued_after_commit_with_the_rows_id_only(member, monkeypatch):
    queued = tasks_asked(monkeypatch, account_mail_send_task)

    row = account_mail_queue(user=member, kind=CHANGED, language="en")

    assert queued == [((row.pk,), {})]


def test_a_task_queued_while_the_broker_is_unreachable_leaves_the_row_for_the_sweep(
    member, monkeypatch, mailoutbox, django_capture_on_commit_callbacks, caplog
):
    from kombu.exceptions import OperationalError

    def unreachable(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(account_mail_send_task, "apply_async", unreachable)
    # when the mail is asked for and the task cannot be queued after commit
    with django_capture_on_commit_callbacks(execute=True):
        row = account_mail_queue(user=member, kind=CHANGED, language="en")
    # then nothing failed for the caller, the row waits, and the sweep sends it later
    assert "accounts.account_mail_send not enqueued after commit" in caplog.text
    assert AccountMail.objects.get(pk=row.pk).state == State.PENDING
    aged(row, seconds=180)
    assert account_mails_sweep_task.apply().get() == 1
    (message,) = mailoutbox
    assert message.to == ["li.ming@example.cn"]


# --- sending once ---------------------------------------------------------------------------
def test_a_sent_row_is_marked_and_its_task_run_again_sends_nothing(member, mailoutbox):
    row = mail_row(member, CHANGED)

    assert run_mail_task(row).get() is True
    assert run_mail_task(row).get() is False

    assert len(mailoutbox) == 1
    row.refresh_from_db()
    assert (row.state, row.attempts) == (State.SENT, 1)
    assert row.done_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_duplicated_task_on_a_real_worker_sends_one_mail(celery_test_worker):
    member = AskerFactory(email="li.ming@example.cn")
    row = mail_row(member, CHANGED)

    first = account_mail_send_task.apply_async((row.pk,), ignore_result=False)
    second = account_mail_send_task.apply_async((row.pk,), ignore_result=False)

    assert (first.get(timeout=10), second.get(timeout=10)) == (True, False)
    (message,) = wait_for_mail()
    assert message.to == ["li.ming@example.cn"]


@pytest.mark.django_db(transaction=True)
def test_a_row_another_worker_is_sending_is_left_to_it(mailoutbox):
    # given another worker holding the row (it is talking to the mail server)
    member = AskerFactory(email="li.ming@example.cn")
    row = mail_row(member, CHANGED)
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                AccountMail.objects.select_for_update().get(pk=row.pk)
                locked.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    holder = threading.Thread(target=other_worker)
    holder.start()
    assert locked.wait(timeout=10)
    # when a duplicate of its task runs meanwhile, it neither waits nor sends
    try:
        assert account_mail_deliver(mail_id=row.pk) is False
        assert mailoutbox == []
    finally:
        release.set()
        holder.join(timeout=10)
    # and had that worker failed, the row is still there to be sent
    assert account_mail_deliver(mail_id=row.pk) is True
    assert len(mailoutbox) == 1


# --- the sweep ------------------------------------------------------------------------------
def test_the_sweep_sends_what_waited_past_the_grace_and_leaves_the_rest(
    member, mailoutbox, settings
):
    settings.ACCOUNT_MAIL_RETRY_AFTER_SECONDS = 120
    lost = aged(mail_row(member, CHANGED, "en"), seconds=150)
    fresh = aged(mail_row(member, CHANGED), seconds=30)
    retrying = aged(mail_row(member, CHANGED), seconds=300, attempted=20)

    assert account_mails_sweep_task.apply().get() == 1

    assert [m.subject for m in mailoutbox] == ["Your Lawline password was changed"]
    states = dict(AccountMail.objects.values_list("pk", "state"))
    assert states == {lost.pk: State.SENT, fresh.pk: State.PENDING, retrying.pk: State.PENDING}


def test_a_failing_send_in_the_sweep_is_counted_and_the_next_row_still_goes(
    member, mailoutbox, monkeypatch
):
    from accounts import account_mail

    send = account_mail.password_changed_mail_send
    failures = [ConnectionRefusedError("smtp down")]

    def flaky(**kwargs):
        if failures:
            raise failures.pop()
        send(**kwargs)

    monkeypatch.setattr(account_mail, "password_changed_mail_send", flaky)
    first = aged(mail_row(member, CHANGED), seconds=600)
    second = aged(mail_row(member, CHANGED), seconds=300)

    assert account_mails_sweep_task.apply().get() == 1

    first.refresh_from_db()
    assert (first.state, first.attempts) == (State.PENDING, 1)
    assert AccountMail.objects.get(pk=second.pk).state == State.SENT
    assert len(mailoutbox) == 1


def test_the_sweep_gives_up_in_bounds_and_says_so_without_personal_data(
    member, mailoutbox, settings, caplog
):
    caplog.set_level(logging.DEBUG)
    settings.ACCOUNT_MAIL_MAX_ATTEMPTS = 3
    settings.ACCOUNT_MAIL_GIVE_UP_SECONDS = 3600
    tried_out = aged(mail_row(member, CHANGED), seconds=600)
    AccountMail.objects.filter(pk=tried_out.pk).update(attempts=3)
    too_old = aged(
        mail_row(member, AccountMail.Kind.EMAIL_CHANGED, address="old.li@example.cn"),
        seconds=3700,
    )

    account_mails_sweep_task.apply()

    assert mailoutbox == []
    for row in (tried_out, too_old):
        row.refresh_from_db()
        assert (row.state, row.address) == (State.DROPPED, "")
    assert f"password-changed mail {tried_out.pk} for user {member.pk} given up" in caplog.text
    assert f"email-changed mail {too_old.pk} for user {member.pk} given up" in caplog.text
    for secret in ("li.ming", "old.li", member.phone):
        assert secret not in caplog.text


def test_the_sweep_deletes_what_was_done_a_while_ago(member):
    old = mail_row(member, CHANGED)
    recent = mail_row(member, CHANGED)
    waiting = aged(mail_row(member, CHANGED), seconds=30)
    long_ago = timezone.now() - timedelta(days=KEEP_DONE_DAYS + 1)
    AccountMail.objects.filter(pk=old.pk).update(state=State.SENT, done_at=long_ago)
    AccountMail.objects.filter(pk=recent.pk).update(state=State.SENT, done_at=timezone.now())

    account_mails_sweep_task.apply()

    assert set(AccountMail.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}


def test_the_sweep_is_on_the_beat_schedule(settings):
    from workers.schedule import BEAT_SCHEDULE

    entry = BEAT_SCHEDULE["accounts-mails-sweep"]

    assert entry["task"] == account_mails_sweep_task.name == "accounts.account_mails_sweep"
    assert entry["schedule"] == settings.ACCOUNT_MAIL_SWEEP_SECONDS
    assert settings.ACCOUNT_MAIL_SWEEP_SECONDS < settings.ACCOUNT_MAIL_RETRY_AFTER_SECONDS


# --- a closed account -----------------------------------------------------------------------
def test_closing_the_account_drops_its_waiting_mails_and_the_address_in_them(member):
    from accounts.services import user_delete

    waiting = mail_row(member, AccountMail.Kind.EMAIL_CHANGED, address="old.li@example.cn")

    user_delete(user=member, password=TEST_PASSWORD, confirmed=True, address="127.0.0.1")

    waiting.refresh_from_db()
    assert (waiting.state, waiting.address) == (State.DROPPED, "")

import gc
import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

# every task enqueued after commit survives an unreachable broker (config/celery_tasks.py)
app = Celery("lawline", task_cls="config.celery_tasks:LawlineTask")
app.config_from_object("config.celery_settings:CONFIG")
app.conf.task_routes = "workers.routing.route_task"
app.autodiscover_tasks()
app.autodiscover_tasks(["workers"], related_name="jobs")


@app.on_after_finalize.connect
def install_beat_schedule(sender: Celery, **_kwargs: object) -> None:
    from workers.schedule import BEAT_SCHEDULE

    sender.conf.beat_schedule = BEAT_SCHEDULE


@signals.worker_process_init.connect
def keep_the_database_pool(**_kwargs: object) -> None:
    """In a prefork pool process: Celery's Django fixup closes the database before and after
    every task, and with Django's connection pool under prefork that means closing the whole
    pool, so every task opened a new PostgreSQL connection. With a reuse count the fixup leaves
    the pool alone (recycling it every WORKER_DB_POOL_RECYCLE_TASKS tasks), and
    `release_database_connections` hands the task's connection back to the pool instead. Only
    here: a solo or in-process worker keeps the fixup's default."""
    from django.conf import settings

    for fixup in getattr(app, "_fixups", None) or ():
        worker_fixup = getattr(fixup, "_worker_fixup", None)
        if worker_fixup is not None and hasattr(worker_fixup, "db_reuse_max"):
            worker_fixup.db_reuse_max = settings.WORKER_DB_POOL_RECYCLE_TASKS


@signals.worker_init.connect
def bound_statements_without_time_limits(sender: object, **_kwargs: object) -> None:
    """A worker whose pool cannot enforce task time limits (threads, solo) has PostgreSQL cut
    off any of its statements waiting on a lock, or running, for longer than the settings allow.
    Before any connection opens, so every connection of the worker's pool starts with them."""
    from celery.concurrency import get_implementation
    from celery.concurrency.prefork import TaskPool as PreforkPool
    from django.conf import settings
    from django.db import connections

    if issubclass(get_implementation(sender.pool_cls), PreforkPool):  # type: ignore[attr-defined]
        return
    options = connections.settings["default"].setdefault("OPTIONS", {})
    options["options"] = " ".join(
        filter(
            None,
            [
                options.get("options"),
                f"-c lock_timeout={settings.WORKER_DB_LOCK_TIMEOUT_MS}",
                f"-c statement_timeout={settings.WORKER_DB_STATEMENT_TIMEOUT_MS}",
            ],
        )
    )


@signals.worker_ready.connect
@signals.worker_process_init.connect
def freeze_startup_heap(**_kwargs: object) -> None:
    """What the worker built to start stays out of the garbage collector's full collections,
    which otherwise walk it all (about 100,000 objects, tens of ms) while a task waits; the
    web processes do the same (config/asgi.py). In the main process once it is ready (solo and
    thread pools run tasks there) and in each prefork pool process."""
    gc.freeze()


@signals.task_postrun.connect
def release_database_connections(sender: object = None, **_kwargs: object) -> None:
    """After every task, as after a web request: the connection goes back to Django's pool (or
    is closed when it broke); the pool health-checks it at the next checkout. (Where the fixup
    closes connections itself, this finds none left.)"""
    from django.db import close_old_connections

    if getattr(getattr(sender, "request", None), "is_eager", False):
        return  # run in the caller's thread, maybe inside its transaction
    close_old_connections()

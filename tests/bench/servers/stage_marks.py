"""Where the post → offer.new milliseconds go: the matching section's web processes and Celery
worker run with these settings, which stamp the wall-clock time of each stage of a consult's
path into a file per process (`BENCH_STAGE_MARKS`, a directory) through Django's and Celery's
own signals, without touching the product's code:

    request     Django's handler got the POST (`request_started`, on the request's thread)
    published   the web process handed the consult's matching task to the broker
    task_start  the worker starts that task (`task_prerun`)
    task_end    it returned: offers written, their frames published (`task_postrun`)

The bench adds the client's own stamps (POST sent, first `offer.new` received) and reads them
back (`tests.bench.matching.stage_medians`).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from celery.signals import after_task_publish, task_postrun, task_prerun
from django.core.signals import request_finished, request_started

from config.settings.local import *  # noqa: F403 - these settings, plus the stamps

TASK = "marketplace.match_consult"

_request = threading.local()
_lock = threading.Lock()
_file = None


def _write(stage: str, consult_id: object, at: float) -> None:
    global _file
    with _lock:
        if _file is None:
            folder = Path(os.environ["BENCH_STAGE_MARKS"])
            _file = (folder / f"{os.getpid()}.txt").open("a", buffering=1)
        _file.write(f"{stage} {consult_id} {at:.6f}\n")


def _on_request(**_kwargs: object) -> None:
    _request.started = time.time()


def _on_request_done(**_kwargs: object) -> None:
    _request.started = None


def _on_published(sender: str | None = None, body: object = None, **_kwargs: object) -> None:
    if sender != TASK or not isinstance(body, (list, tuple)) or not body[0]:
        return
    now = time.time()
    consult_id = body[0][0]
    started = getattr(_request, "started", None)
    if started is not None:
        _write("request", consult_id, started)
    _write("published", consult_id, now)


def _on_task(stage: str):
    def stamp(sender=None, args=(), **_kwargs: object) -> None:
        if getattr(sender, "name", None) == TASK and args:
            _write(stage, args[0], time.time())

    return stamp


_on_task_start, _on_task_end = _on_task("task_start"), _on_task("task_end")

if os.environ.get("BENCH_STAGE_MARKS"):
    request_started.connect(_on_request, dispatch_uid="bench-stage-request")
    request_finished.connect(_on_request_done, dispatch_uid="bench-stage-request-done")
    after_task_publish.connect(_on_published, dispatch_uid="bench-stage-published")
    task_prerun.connect(_on_task_start, dispatch_uid="bench-stage-task-start")
    task_postrun.connect(_on_task_end, dispatch_uid="bench-stage-task-end")

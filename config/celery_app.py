import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

# every task enqueued after commit survives an unreachable broker (config/celery_tasks.py)
app = Celery("lawline", task_cls="config.celery_tasks:LawlineTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_routes = "workers.routing.route_task"
app.autodiscover_tasks()
app.autodiscover_tasks(["workers"], related_name="jobs")


@app.on_after_finalize.connect
def install_beat_schedule(sender: Celery, **_kwargs: object) -> None:
    from workers.schedule import BEAT_SCHEDULE

    sender.conf.beat_schedule = BEAT_SCHEDULE

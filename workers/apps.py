from django.apps import AppConfig


class WorkersConfig(AppConfig):
    name = "workers"
    verbose_name = "Background workers"

    def ready(self) -> None:
        # bind @shared_task to the project's Celery app in every process (web, worker, tests)
        import config.celery_app  # noqa: F401

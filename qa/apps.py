from django.apps import AppConfig


class QaConfig(AppConfig):
    name = "qa"
    verbose_name = "Public Q&A and moderation"

    def ready(self) -> None:
        from qa import page_cache

        page_cache.register()

from django.apps import AppConfig


class QaConfig(AppConfig):
    name = "qa"
    verbose_name = "Public Q&A and moderation"

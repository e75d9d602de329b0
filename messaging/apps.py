from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = pgettext_lazy("admin section", "Messaging")

    def ready(self) -> None:
        from messaging import frames  # noqa: F401 - registers the socket's chat frames

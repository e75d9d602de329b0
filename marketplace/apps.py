from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = pgettext_lazy("admin section", "Marketplace")

    def ready(self) -> None:
        from marketplace import frames  # noqa: F401 - registers presence and offer frames

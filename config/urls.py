from django.contrib import admin
from django.urls import include, path

from config import health
from config.api import api
from pages.views import favicon, home, language_choose

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("metrics", health.metrics, name="metrics"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    # what browsers ask for on pages that name no icon (the Django admin's)
    path("favicon.ico", favicon),
    path("i18n/setlang/", language_choose, name="set_language"),
    path("accounts/", include("accounts.urls")),
    path("account/", include("accounts.account_urls")),
    # Stripe's signed webhook (POST /billing/stripe/webhook) and the asker's card step
    path("billing/", include("billing.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("", home, name="home"),
    path("", include("pages.urls")),
    path("", include("marketplace.urls")),
    # public Q&A, lawyers directory, reports, moderation, /sitemap.xml, /robots.txt
    path("", include("qa.urls")),
]

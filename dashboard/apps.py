from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The staff live dashboard at /dashboard/ (figures from GET /api/v1/admin/dashboard)."""

    name = "dashboard"
    verbose_name = "Live dashboard"

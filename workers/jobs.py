"""Periodic jobs that cross apps (SLA sweeps, presence reaping, metric rollups)."""

# --- billing: the first-reply guarantee and the response-time rollup -------------------------
from celery import shared_task  # noqa: E402


@shared_task(name="workers.billing_sla_sweep", acks_late=True, time_limit=60, soft_time_limit=50)
def billing_sla_sweep(**_kwargs: object) -> int:
    """Expire consults past their first-reply deadline and cancel their payments."""
    from billing.services import consult_sla_expire_due

    return consult_sla_expire_due()


@shared_task(
    name="workers.billing_metrics_rollup", acks_late=True, time_limit=60, soft_time_limit=50
)
def billing_metrics_rollup(**_kwargs: object) -> int:
    """Refresh the rating and response-time figures shown on lawyer cards."""
    from billing.metrics import lawyer_profiles_refresh_metrics

    return lawyer_profiles_refresh_metrics()

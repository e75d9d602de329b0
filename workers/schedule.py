"""The beat schedule. Deadlines (SLA, offer expiry) are rows scanned here, not countdowns.

Each app adds its periodic jobs to this dict; the job itself lives in workers/jobs.py when it
crosses apps, or in the app's tasks.py when it is the app's own.
"""

from django.conf import settings

BEAT_SCHEDULE: dict[str, dict] = {
    # --- accounts ---
    "accounts-mails-sweep": {
        "task": "accounts.account_mails_sweep",
        "schedule": settings.ACCOUNT_MAIL_SWEEP_SECONDS,
        "options": {"expires": settings.ACCOUNT_MAIL_SWEEP_SECONDS},
    },
    # --- marketplace ---
    "marketplace-expire-offers": {
        "task": "marketplace.offers.expire_due",
        "schedule": settings.MATCH_SWEEP_SECONDS,
    },
    "marketplace-sweep-searches": {
        "task": "marketplace.match_sweep",
        "schedule": settings.MATCH_SWEEP_SECONDS,
    },
    "marketplace-reap-presence": {
        "task": "marketplace.presence_reap",
        "schedule": settings.PRESENCE_REAP_SECONDS,
    },
    # --- messaging ---
    # --- billing ---
    "billing-sla-sweep": {
        "task": "workers.billing_sla_sweep",
        "schedule": settings.BILLING_SLA_SWEEP_SECONDS,
        "options": {"expires": settings.BILLING_SLA_SWEEP_SECONDS * 2},
    },
    "billing-payments-resettle": {
        "task": "billing.payments_resettle",
        "schedule": 60.0,
        "options": {"expires": 120},
    },
    "billing-metrics-rollup": {
        "task": "workers.billing_metrics_rollup",
        "schedule": float(settings.METRICS_ROLLUP_SECONDS),
        "options": {"expires": settings.METRICS_ROLLUP_SECONDS},
    },
    # --- qa ---
    "qa-views-flush": {
        "task": "qa.views_flush",
        "schedule": settings.QA_VIEW_FLUSH_SECONDS,
        "options": {"queue": "periodic", "expires": settings.QA_VIEW_FLUSH_SECONDS * 2},
    },
}

"""Settings shared by every environment. 12-factor: everything that differs comes from env."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from django.utils.translation import gettext_lazy as _

from config.database_url import database_config

BASE_DIR = Path(__file__).resolve().parents[2]
env = environ.Env()

# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
SECRET_KEY = env("DJANGO_SECRET_KEY", default="lawline-dev-only-not-secret-6c1f0b2e9d4a")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "channels",
    # Swagger UI for /api/v1/docs from our static files, not a CDN with an inline script the
    # Content-Security-Policy forbids
    "ninja",
    "accounts",
    "marketplace",
    "messaging",
    "billing",
    "qa",
    "pages",
    "dashboard",
    "workers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.observability.RequestMetricsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.security_headers.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# https://docs.djangoproject.com/en/5.2/ref/databases/#connection-pool
# Django's psycopg pool, not CONN_MAX_AGE: under ASGI a persistent connection per thread leaks.
DATABASES = {
    "default": database_config(
        env("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/lawline")
    )
}
DATABASES["default"]["CONN_MAX_AGE"] = 0
# with the pool: a connection the server dropped while it sat in the pool (failover, restart,
# pg_terminate_backend) is replaced at checkout instead of failing the next message: Django's
# backend with a pool whose check costs no round trip on a healthy connection (config.postgresql;
# tests/reliability/test_database_connections.py). Django's own CONN_HEALTH_CHECKS made that
# check an empty query on every checkout, so on every request and task.
DATABASES["default"]["ENGINE"] = "config.postgresql"
DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
DATABASES["default"]["OPTIONS"] |= {
    "pool": {
        "min_size": env.int("DB_POOL_MIN", default=1),
        "max_size": env.int("DB_POOL_MAX", default=20),
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
        # connections opened for a burst are closed again after this long unused
        "max_idle": env.float("DB_POOL_MAX_IDLE", default=600.0),
    }
}
# Statements prepared by config/prepared_sql.py (the hot paths' fixed SQL)
# are planned once per connection instead of per execution. Django's own queries bind client
# side and are never prepared, so this changes nothing else.
# https://www.postgresql.org/docs/current/runtime-config-query.html#GUC-PLAN-CACHE-MODE
DATABASES["default"]["OPTIONS"]["options"] = " ".join(
    filter(
        None,
        [DATABASES["default"]["OPTIONS"].get("options"), "-c plan_cache_mode=force_generic_plan"],
    )
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# https://docs.djangoproject.com/en/5.2/topics/auth/passwords/#using-argon2-with-django
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # ours: Django's own message has no Chinese in Django 5.2
    {"NAME": "accounts.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling: this many failures inside the window lock the account+address out.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=900)
# Registrations per client address per hour.
REGISTER_RATE_LIMIT = env.int("REGISTER_RATE_LIMIT", default=20)

# --- e-mail (password reset links) --------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/email/#smtp-backend
# SMTP from the environment; nothing secret in the repo. `make run` writes mail to files
# instead (config/settings/local.py), production sends by SMTP (production.py).
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
# a stuck SMTP server must not hold a worker past the task's time limit
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Lawline <noreply@lawline.example>")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
# where people without an e-mail on file (no reset by mail) ask for help; shown on reset pages
SUPPORT_EMAIL = env("SUPPORT_EMAIL", default="support@lawline.example")
# Links in mails are absolute: the task that sends them has no request to take a host from.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")

# --- password reset by e-mail (accounts.services.password_reset_request) ------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#password-reset-timeout
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60)
# reset requests per client address, and per login typed, per hour (then 429)
PASSWORD_RESET_RATE_LIMIT = env.int("PASSWORD_RESET_RATE_LIMIT", default=10)
# reset mails one account gets per hour, however they were asked for; past it requests are
# answered as usual and send nothing, so the limit never tells whether an account exists
PASSWORD_RESET_MAILS_PER_ACCOUNT = env.int("PASSWORD_RESET_MAILS_PER_ACCOUNT", default=3)

# --- confirming a new e-mail address (accounts.services.user_email_change, email_confirm) ---
# how long the link mailed to a new address works, in seconds
EMAIL_CONFIRM_TIMEOUT = env.int("EMAIL_CONFIRM_TIMEOUT", default=24 * 60 * 60)
# confirmation mails one account may have sent per hour (setting an address, or "send again"),
# so that nobody can flood someone else's mailbox by claiming their address over and over
EMAIL_CONFIRM_MAILS_PER_HOUR = env.int("EMAIL_CONFIRM_MAILS_PER_HOUR", default=3)

# --- the outbox of account mails (accounts.outbox) ------------------------------------------
# beat's sweep runs this often; it sends a mail still waiting this long after it was asked for
# and after its last try (its task lost with an unreachable broker, or out of retries)
ACCOUNT_MAIL_SWEEP_SECONDS = env.float("ACCOUNT_MAIL_SWEEP_SECONDS", default=60.0)
ACCOUNT_MAIL_RETRY_AFTER_SECONDS = env.int("ACCOUNT_MAIL_RETRY_AFTER_SECONDS", default=120)
# a mail tried this many times (task retries and sweeps together), or waiting this long, is
# dropped with a log line
ACCOUNT_MAIL_MAX_ATTEMPTS = env.int("ACCOUNT_MAIL_MAX_ATTEMPTS", default=12)
ACCOUNT_MAIL_GIVE_UP_SECONDS = env.int("ACCOUNT_MAIL_GIVE_UP_SECONDS", default=24 * 60 * 60)

# https://docs.djangoproject.com/en/5.2/topics/i18n/
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / ".devdata" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}


# --- Redis: one server, separate databases per use --------------------------------------
def redis_url(base: str, db: int) -> str:
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, ""))


REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379")
REDIS_DB_APP = env.int("REDIS_DB_APP", default=0)  # presence, counters, throttles, cache
REDIS_DB_BROKER = env.int("REDIS_DB_BROKER", default=1)
REDIS_DB_RESULTS = env.int("REDIS_DB_RESULTS", default=2)
REDIS_DB_CHANNELS = env.int("REDIS_DB_CHANNELS", default=3)
REDIS_KEY_PREFIX = env("REDIS_KEY_PREFIX", default="lawline:")
REDIS_APP_URL = redis_url(REDIS_URL, REDIS_DB_APP)
# connections per web process for presence, counters and throttles (async side)
REDIS_ASYNC_POOL_SIZE = env.int("REDIS_ASYNC_POOL_SIZE", default=64)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_APP_URL,
        "KEY_PREFIX": REDIS_KEY_PREFIX + "cache",
    }
}

# https://channels.readthedocs.io/en/latest/topics/channel_layers.html
# The pub/sub layer: measured 1.1 ms A->B against 2.6 ms for the core layer here. Delivery
# guarantees come from the database and `resume`, never from the layer.
CHANNEL_MESSAGE_KEYS = env.list("CHANNEL_ENCRYPTION_KEYS", default=[SECRET_KEY])
CHANNEL_LAYERS = {
    "default": {
        # channels-redis' pub/sub layer, events sealed with AES-GCM-SIV instead of Fernet
        # (config/channel_layer.py: ~10 µs instead of ~85 µs of CPU per chat message)
        "BACKEND": "config.channel_layer.SealedPubSubChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": redis_url(REDIS_URL, REDIS_DB_CHANNELS),
                    # redis-py's default 5 s socket timeout equals the layer's blocking read
                    # and kills idle consumers; pool sized for connection bursts.
                    "socket_timeout": None,
                    "max_connections": env.int("CHANNEL_REDIS_MAX_CONNECTIONS", default=2000),
                }
            ],
            "prefix": REDIS_KEY_PREFIX + "ws",
            "symmetric_encryption_keys": CHANNEL_MESSAGE_KEYS,
        },
    }
}

# https://docs.celeryq.dev/en/stable/userguide/configuration.html
CELERY_BROKER_URL = redis_url(REDIS_URL, REDIS_DB_BROKER)
CELERY_RESULT_BACKEND = redis_url(REDIS_URL, REDIS_DB_RESULTS)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60
CELERY_TASK_SOFT_TIME_LIMIT = 50
# longer than the longest task's time limit, so an unacked task is redelivered only when its
# worker is really gone. A surviving worker looks for such tasks every restore interval (the
# throttle of 1 makes that every interval, not every tenth): a task whose worker was killed runs
# again within visibility timeout + interval (tests/reliability/test_celery_worker_loss.py).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=120),
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
}
CELERY_RESULT_EXPIRES = 3600
# Nothing in the product reads a task's result. Storing them costs a SUBSCRIBE per task sent in
# the sender, and with Redis down every `.delay()` in a web request then hung ~20 s retrying
# that subscription (tests/reliability/test_redis_restart.py). A test that reads a result asks
# for it: `apply_async(..., ignore_result=False)`.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fixup closes the database after every task, and with Django's pool under the
# prefork pool that closes the whole pool: each task paid a new PostgreSQL connection (a server
# process, cold caches; milliseconds on the post → offer.new path). In pool processes the fixup
# recycles the pool only every this many tasks instead, and the connection goes back to the pool
# after each task as after a web request (config/celery_app.py).
WORKER_DB_POOL_RECYCLE_TASKS = env.int("WORKER_DB_POOL_RECYCLE_TASKS", default=1000)
# Celery enforces task time limits only in prefork pool processes. A worker on another pool (the
# `matcher`'s threads) has PostgreSQL bound each statement instead, below every task's time
# limit: a task stuck on a lock gives up (a retryable OperationalError) rather than holding one
# of the worker's threads until the lock is released (config/celery_app.py).
WORKER_DB_LOCK_TIMEOUT_MS = env.int("WORKER_DB_LOCK_TIMEOUT_MS", default=5_000)
WORKER_DB_STATEMENT_TIMEOUT_MS = env.int("WORKER_DB_STATEMENT_TIMEOUT_MS", default=20_000)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Health check: how long /healthz waits for a Celery worker to answer a ping.
HEALTH_CELERY_TIMEOUT = env.float("HEALTH_CELERY_TIMEOUT", default=1.0)
# Prometheus scrapes /metrics with this bearer token; without one /metrics is open unless
# METRICS_REQUIRE_TOKEN (on in production, where it is then closed)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_REQUIRE_TOKEN = False

SESSION_COOKIE_AGE = 60 * 60 * 24 * 14

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django.request": {"level": "WARNING"},
        "uvicorn.access": {"level": "WARNING"},
    },
}

NINJA_PAGINATION_MAX_LIMIT = 200

# Threads per web process that run Django's WSGI handler for pages and API (config/asgi.py).
# 4, not more: each extra thread contends for the GIL with the event loop that carries the
# sockets (make bench, serving: socket p50 under page load ~3.5 ms with 4, ~8 with 8, ~16 with
# 16, and no more pages served); raise it only if pages wait on a slow remote database.
HTTP_WSGI_THREADS = env.int("HTTP_WSGI_THREADS", default=4)


# === App settings: each app keeps its own section below (owned by that app) ===============
# --- marketplace (questions, profiles, consults, presence, matching) ---
# Matching: how many lawyers hold an offer for one consult at once, and for how long.
MATCH_OFFER_TOP_K = env.int("MATCH_OFFER_TOP_K", default=3)
MATCH_OFFER_TTL_SECONDS = env.int("MATCH_OFFER_TTL_SECONDS", default=60)
# A consult nobody could be offered to waits this long in its city, then in its province,
# before the search widens (expired offers widen at once).
MATCH_WIDEN_TO_PROVINCE_SECONDS = env.int("MATCH_WIDEN_TO_PROVINCE_SECONDS", default=30)
MATCH_WIDEN_TO_NATION_SECONDS = env.int("MATCH_WIDEN_TO_NATION_SECONDS", default=60)
# How often beat revokes expired offers and widens waiting searches.
MATCH_SWEEP_SECONDS = env.float("MATCH_SWEEP_SECONDS", default=2.0)
# A queued consult no matching pass looked at for this long gets one from beat (lost triggers).
MATCH_RESCAN_SECONDS = env.int("MATCH_RESCAN_SECONDS", default=15)
# Presence: lawyer sockets send `presence` every HEARTBEAT seconds; a lawyer not heard from
# for TIMEOUT seconds is offline (reaped by beat every REAP seconds).
PRESENCE_HEARTBEAT_SECONDS = env.int("PRESENCE_HEARTBEAT_SECONDS", default=20)
PRESENCE_TIMEOUT_SECONDS = env.int("PRESENCE_TIMEOUT_SECONDS", default=60)
PRESENCE_REAP_SECONDS = env.float("PRESENCE_REAP_SECONDS", default=15.0)
# Questions one asker may ask per hour (page and API; tests/security/test_hardening.py).
QUESTION_RATE_LIMIT_PER_HOUR = env.int("QUESTION_RATE_LIMIT_PER_HOUR", default=20)
# --- messaging ---
# Per user, across all sockets: at most this many `message.send` in the sliding window.
MESSAGING_RATE_LIMIT_COUNT = env.int("MESSAGING_RATE_LIMIT_COUNT", default=20)
MESSAGING_RATE_LIMIT_WINDOW_SECONDS = env.int("MESSAGING_RATE_LIMIT_WINDOW_SECONDS", default=10)
# Peer presence: each web process refreshes its sockets' entries this often; an entry not
# refreshed within the TTL (its process died) no longer counts as online.
MESSAGING_PRESENCE_REFRESH_SECONDS = env.int("MESSAGING_PRESENCE_REFRESH_SECONDS", default=30)
MESSAGING_PRESENCE_TTL_SECONDS = env.int("MESSAGING_PRESENCE_TTL_SECONDS", default=90)
# Peer presence is told to the people one talked with in this many days (at most 500 of them).
MESSAGING_PRESENCE_PEER_DAYS = env.int("MESSAGING_PRESENCE_PEER_DAYS", default=30)
# --- billing ---
# https://docs.stripe.com/keys — without a secret key the offline sandbox gateway is used.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
# https://docs.stripe.com/webhooks#verify-events — unset: every webhook is refused (400).
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_WEBHOOK_TOLERANCE_SECONDS = env.int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", default=300)
STRIPE_API_BASE = env("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=10.0)
# https://docs.stripe.com/error-low-level#idempotency — the SDK retries with the same key
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
BILLING_DEFAULT_CURRENCY = env("BILLING_DEFAULT_CURRENCY", default="CNY")
BILLING_CURRENCIES = env.list("BILLING_CURRENCIES", default=["CNY"])
# the platform's cut of a captured consult, in basis points (2000 = 20%)
PLATFORM_FEE_BASIS_POINTS = env.int("PLATFORM_FEE_BASIS_POINTS", default=2000)
# bounds of a paid consult's price in minor units (0 is a free consult, always allowed)
CONSULT_PRICE_MIN = env.int("CONSULT_PRICE_MIN", default=500)
CONSULT_PRICE_MAX = env.int("CONSULT_PRICE_MAX", default=500000)
# the first-reply guarantee: from queued until the lawyer's first reply, else money back
CONSULT_SLA_SECONDS = env.int("CONSULT_SLA_SECONDS", default=600)
BILLING_SLA_SWEEP_SECONDS = env.float("BILLING_SLA_SWEEP_SECONDS", default=5.0)
BILLING_SLA_SWEEP_BATCH = env.int("BILLING_SLA_SWEEP_BATCH", default=100)
# a capture or cancel not done this long after it was decided is driven again by beat
BILLING_SETTLE_RETRY_AFTER_SECONDS = env.int("BILLING_SETTLE_RETRY_AFTER_SECONDS", default=120)
METRICS_WINDOW_DAYS = env.int("METRICS_WINDOW_DAYS", default=30)
METRICS_ROLLUP_SECONDS = env.int("METRICS_ROLLUP_SECONDS", default=300)
PUBLIC_STATS_CACHE_SECONDS = env.int("PUBLIC_STATS_CACHE_SECONDS", default=5)
# --- qa (public answers, moderation, search) ---
# approvals by distinct staff reviewers an answer needs before it shows (one reject ends it)
QA_ANSWER_REVIEW_ROUNDS = env.int("QA_ANSWER_REVIEW_ROUNDS", default=1)
QA_ANSWER_MAX_LEGAL_BASES = env.int("QA_ANSWER_MAX_LEGAL_BASES", default=10)
# question views are counted in Redis and added to the database by beat this often
QA_VIEW_FLUSH_SECONDS = env.float("QA_VIEW_FLUSH_SECONDS", default=30.0)
QA_VIEW_FLUSH_CHUNK = env.int("QA_VIEW_FLUSH_CHUNK", default=1000)
# reports one user may file per hour and per day (staff are not limited)
QA_REPORTS_PER_HOUR = env.int("QA_REPORTS_PER_HOUR", default=10)
QA_REPORTS_PER_DAY = env.int("QA_REPORTS_PER_DAY", default=30)
QA_RELATED_LIMIT = env.int("QA_RELATED_LIMIT", default=6)
QA_SIMILAR_LIMIT = env.int("QA_SIMILAR_LIMIT", default=5)
# related questions and local lawyers of a question page are cached this long
QA_FRAGMENT_CACHE_SECONDS = env.int("QA_FRAGMENT_CACHE_SECONDS", default=300)
# whole question pages for anonymous visitors (config/page_cache.py); writes that change a page
# drop its copies at once, so this only bounds how old its view count and side lists get
QA_PAGE_CACHE_SECONDS = env.int("QA_PAGE_CACHE_SECONDS", default=60)
QA_PAGE_SIZE = env.int("QA_PAGE_SIZE", default=20)
QA_SITEMAP_PAGE_SIZE = env.int("QA_SITEMAP_PAGE_SIZE", default=10000)

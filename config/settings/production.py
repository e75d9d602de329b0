"""Production: every secret from the environment, secure cookies, HTTPS everywhere."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CHANNEL_MESSAGE_KEYS = env.list("CHANNEL_ENCRYPTION_KEYS", default=[SECRET_KEY])
CHANNEL_LAYERS["default"]["CONFIG"]["symmetric_encryption_keys"] = CHANNEL_MESSAGE_KEYS  # noqa: F405
METRICS_REQUIRE_TOKEN = True  # /metrics only with METRICS_TOKEN as a bearer token

# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-proxy-ssl-header
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
X_FRAME_OPTIONS = "DENY"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))  # noqa: F405

# https://docs.djangoproject.com/en/5.2/topics/email/#smtp-backend — EMAIL_HOST, EMAIL_PORT,
# EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS and DEFAULT_FROM_EMAIL from the environment
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
# reset links point at the public site: PUBLIC_BASE_URL, else the first allowed host over HTTPS
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default=f"https://{ALLOWED_HOSTS[0]}")

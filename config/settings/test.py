"""Tests: real PostgreSQL and a real Redis, on databases and prefixes of their own."""

from .base import *  # noqa: F403
from .base import CACHES, CHANNEL_LAYERS, REDIS_URL, env, redis_url

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; argon2 tested apart

REDIS_DB_APP = 10
REDIS_DB_BROKER = 11
REDIS_DB_RESULTS = 12
REDIS_DB_CHANNELS = 13
REDIS_KEY_PREFIX = env("REDIS_KEY_PREFIX", default="lawline-test:")
REDIS_APP_URL = redis_url(REDIS_URL, REDIS_DB_APP)
CACHES["default"]["LOCATION"] = REDIS_APP_URL
CACHES["default"]["KEY_PREFIX"] = REDIS_KEY_PREFIX + "cache"
CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]["address"] = redis_url(REDIS_URL, REDIS_DB_CHANNELS)
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = REDIS_KEY_PREFIX + "ws"
CELERY_BROKER_URL = redis_url(REDIS_URL, REDIS_DB_BROKER)
CELERY_RESULT_BACKEND = redis_url(REDIS_URL, REDIS_DB_RESULTS)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DATABASES["default"]["OPTIONS"]["pool"]["max_size"] = 40  # noqa: F405
LOGGING["root"]["level"] = env("DJANGO_LOG_LEVEL", default="WARNING")  # noqa: F405

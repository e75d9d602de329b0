from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

# Mail is written to files a newcomer can open (one .log file per message), not sent:
# .devdata/mail/ (git-ignored). EMAIL_BACKEND in the environment sends it for real.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = BASE_DIR / ".devdata" / "mail"  # noqa: F405
PUBLIC_BASE_URL = env(
    "PUBLIC_BASE_URL", default=f"http://127.0.0.1:{env('LAWLINE_PORT', default='8000')}"
)

"""A bare Django "hello": one view, no middleware, no database. The same Django under each
server stack (gunicorn WSGI, uvicorn + Django's ASGI handler, uvicorn + a2wsgi) is the reference
the project's pages are measured against."""

from __future__ import annotations

import django
from django.conf import settings
from django.http import HttpResponse
from django.urls import path

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-hello-not-secret",  # noqa: S106 - a throwaway benchmark server
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        DATABASES={},
        USE_TZ=True,
    )
    django.setup()


def hello(_request):
    return HttpResponse(b"hello", content_type="text/plain")


urlpatterns = [path("", hello)]

from a2wsgi import WSGIMiddleware  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

wsgi_app = get_wsgi_application()
asgi_app = get_asgi_application()
a2wsgi_app = WSGIMiddleware(wsgi_app, workers=8)

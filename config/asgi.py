"""One port for everything: WebSockets on ASGI (Channels), pages and API on Django's WSGI
handler run inside the same server through a2wsgi.

Measured by `make bench` (README, "Serving and performance"): a Django "hello" costs ~0.6 ms
of server CPU through Django's ASGI handler, ~0.2 ms under gunicorn and ~0.22 ms here (a2wsgi
adds one thread hop per request, not the handler's several), and sockets answer 2-6x faster
while pages load. HTTP_SERVING=asgi switches pages to Django's ASGI handler for comparison.
"""

import gc
import os
import sys

from django.core.asgi import get_asgi_application

# Pages render in a2wsgi's threads beside the event loop that carries every socket of this
# process; the GIL switch interval bounds how long a rendering thread keeps the loop waiting.
# 1 ms instead of CPython's 5 ms: socket round trips while pages load went from p50 ~6 ms to
# ~2.5 ms for ~0.07 ms more CPU per request (`make bench`, serving section; README).
_switch_ms = float(os.environ.get("WEB_GIL_SWITCH_INTERVAL_MS", "1") or 0)
if _switch_ms > 0:
    sys.setswitchinterval(_switch_ms / 1000)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django_asgi_app = get_asgi_application()

# imported after Django is set up
from a2wsgi import WSGIMiddleware  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.urls import path  # noqa: E402

from accounts.consumers import ClientConsumer  # noqa: E402
from accounts.socket_auth import SocketAuthMiddleware  # noqa: E402
from config.page_cache import PageCacheMiddleware  # noqa: E402
from config.socket_outage import RetryLaterOnOutage  # noqa: E402


def freeze_startup_heap() -> None:
    """Keep what the process built to start (modules, settings, URL patterns, templates,
    jieba's dictionary) out of the garbage collector's full collections. Those walked every
    tracked object, about 100,000 after startup: 40 ms during which no page thread and no
    socket of the process runs, every few seconds under load."""
    gc.freeze()


def warm_up_search() -> None:
    """Load jieba's dictionary (~1.3 s) in the background so the first search does not wait,
    then freeze the heap again with the dictionary in it."""
    import threading

    import jieba

    def load() -> None:
        jieba.initialize()
        freeze_startup_heap()

    threading.Thread(target=load, name="jieba-warmup", daemon=True).start()


warm_up_search()


def build_http_app():
    if os.environ.get("HTTP_SERVING", "wsgi") == "asgi":
        return PageCacheMiddleware(django_asgi_app)
    wsgi = WSGIMiddleware(get_wsgi_application(), workers=settings.HTTP_WSGI_THREADS)  # type: ignore[arg-type]
    return PageCacheMiddleware(wsgi)


application = ProtocolTypeRouter(
    {
        "http": build_http_app(),
        "websocket": RetryLaterOnOutage(
            AllowedHostsOriginValidator(
                SocketAuthMiddleware(URLRouter([path("ws/", ClientConsumer.as_asgi())]))
            )
        ),
    }
)
freeze_startup_heap()

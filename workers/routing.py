"""Which queue each task runs on. Matching has its own queue so a backlog of slow jobs
(rollups, flushes) never delays getting a consult in front of a lawyer."""

QUEUES = ("default", "matching", "periodic")

ROUTES_BY_PREFIX = {
    "marketplace.match": "matching",
    "marketplace.offers": "matching",
    "workers.": "periodic",
}


def route_task(name: str, args: object, kwargs: object, options: object, task=None, **kw) -> dict:
    for prefix, queue in ROUTES_BY_PREFIX.items():
        if name.startswith(prefix):
            return {"queue": queue}
    return {"queue": "default"}

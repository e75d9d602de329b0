"""Celery's configuration: the CELERY_* Django settings, read once when Celery first needs them.

Celery reads several of its settings on every task it sends. Looked up through Django's
settings object, each read tried several spellings of the name, and every one that is not set
raised inside Django's `LazySettings.__getattr__`: about 0.2 ms of the 0.6 ms `apply_async`
cost on the post → offer.new path. From a plain dict the same reads are dictionary lookups.
Settings are fixed for a process's life, as Celery itself assumes once it has read them.

The keys are Celery's own lowercase names (CELERY_RESULT_BACKEND: result_backend). Handed over
as CELERY_* with `namespace="CELERY"`, the three whose prefixed name is also a Celery 3 name
(CELERY_RESULT_BACKEND, CELERY_TASK_SERIALIZER, CELERY_ACCEPT_CONTENT) were flagged as
deprecated and every worker warned of them at start."""

from django.conf import settings

CONFIG = {
    name.removeprefix("CELERY_").lower(): getattr(settings, name)
    for name in dir(settings)
    if name.startswith("CELERY_")
}

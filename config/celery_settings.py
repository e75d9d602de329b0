"""Celery's configuration: the CELERY_* Django settings, read once when Celery first needs them.

Celery reads several of its settings on every task it sends. Looked up through Django's
settings object, each read tried several spellings of the name, and every one that is not set
raised inside Django's `LazySettings.__getattr__`: about 0.2 ms of the 0.6 ms `apply_async`
cost on the post → offer.new path. From a plain dict the same reads are dictionary lookups.
Settings are fixed for a process's life, as Celery itself assumes once it has read them."""

from django.conf import settings

CONFIG = {name: getattr(settings, name) for name in dir(settings) if name.startswith("CELERY_")}

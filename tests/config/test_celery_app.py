"""The Celery app's configuration, as a worker reads it when it starts."""

from __future__ import annotations

import warnings

from celery.exceptions import CDeprecationWarning
from django.conf import settings

from config.celery_app import app


def test_worker_start_warns_of_no_deprecated_setting_names():
    # given the app configured from the CELERY_* Django settings
    # when a starting worker checks the configuration for deprecated names
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app.conf.maybe_warn_deprecated_settings()
    # then it finds none
    assert [str(w.message) for w in caught if issubclass(w.category, CDeprecationWarning)] == []


def test_every_celery_django_setting_reaches_the_app_under_its_new_name():
    # given the CELERY_* Django settings
    names = [name for name in dir(settings) if name.startswith("CELERY_")]
    # when the app reads each under its lowercase name (CELERY_RESULT_BACKEND: result_backend)
    read = {name: app.conf[name.removeprefix("CELERY_").lower()] for name in names}
    # then it has each setting's value
    assert read == {name: getattr(settings, name) for name in names}
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]

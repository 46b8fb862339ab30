"""Celery application.

With ``REDIS_URL`` (or ``CELERY_BROKER_URL``) set, tasks go through Redis; without it,
``CELERY_TASK_ALWAYS_EAGER`` is on (see settings) so the embedded default needs no broker.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("hbtrials")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

"""gunicorn settings for ``bench_enroll_throughput.py`` (``gunicorn -c bench/gunicorn_bench.py``).

Production hands a new outbox message to a Celery worker after the commit; the benchmark
runs no broker, so without this the delivery would run inside the request. As in
``bench_writes.py``, the outbox rows are written (as in production) and their delivery,
the worker's job, is left out of the request.
"""

from __future__ import annotations

from typing import Any


def post_worker_init(worker: Any) -> None:
    import notifications.services as notification_services

    notification_services._schedule_delivery = lambda *args, **kwargs: None

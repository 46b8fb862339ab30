"""API rate limits kept in the ``throttle`` cache.

That cache is Redis with a process-local fallback (``config/cache.py``): while Redis is
down the limits still hold, per process, and no request fails because of the cache.
"""

from __future__ import annotations

from django.core.cache import caches
from django.utils.connection import ConnectionProxy
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

throttle_cache = ConnectionProxy(caches, "throttle")


class UserThrottle(UserRateThrottle):
    cache = throttle_cache


class AnonThrottle(AnonRateThrottle):
    cache = throttle_cache

"""A Redis cache that degrades instead of failing.

The cache only holds derived data (dashboard figures, throttling counters, the
"recompute pending" flags). When Redis is unreachable a page must still work – it
computes on demand – so connection errors are logged and treated as cache misses, the way
django-redis's IGNORE_EXCEPTIONS does.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


def _tolerant(default: Any = None, *, reraise_value_error: bool = False) -> Any:
    def wrap(method: Any) -> Any:
        @functools.wraps(method)
        def inner(self: ResilientRedisCache, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except _DOWN as exc:
                logger.warning("cache unavailable (%s): %s", method.__name__, exc)
                if reraise_value_error:
                    raise ValueError("cache unavailable") from exc
                return kwargs.get("default", default) if method.__name__ == "get" else default

        return inner

    return wrap


class ResilientRedisCache(RedisCache):
    get = _tolerant(None)(RedisCache.get)
    set = _tolerant(None)(RedisCache.set)
    add = _tolerant(False)(RedisCache.add)
    touch = _tolerant(False)(RedisCache.touch)
    delete = _tolerant(False)(RedisCache.delete)
    get_many = _tolerant({})(RedisCache.get_many)
    set_many = _tolerant([])(RedisCache.set_many)
    delete_many = _tolerant(None)(RedisCache.delete_many)
    has_key = _tolerant(False)(RedisCache.has_key)
    incr = _tolerant(reraise_value_error=True)(RedisCache.incr)

    @_tolerant(False)
    def clear(self) -> bool:
        """Delete this cache's keys only (its ``KEY_PREFIX``), not the whole Redis
        database: the Celery broker's queues may live in the same database, and so may
        another process's cache (a test worker under pytest-xdist, another deployment)."""
        client = self._cache.get_client(write=True)
        # make_key gives "<prefix>:<version>:<key>" (":<version>:<key>" without a prefix)
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{_glob_escape(self.key_prefix)}:*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                client.delete(*batch)
                batch = []
        if batch:
            client.delete(*batch)
        return True


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]\\" else c for c in text)

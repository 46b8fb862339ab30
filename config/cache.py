"""A Redis cache that degrades instead of failing.

The cache only holds derived data (dashboard figures, throttling counters, the
"recompute pending" flags). When Redis is unreachable a page must still work – it
computes on demand – so connection errors are logged and treated as cache misses, the way
django-redis's IGNORE_EXCEPTIONS does.

Two refinements:

* after a failure the server is considered down for ``DOWN_SECONDS`` (per process), so
  a request during an outage does not wait for a connect timeout on every cache call;
* with ``OPTIONS["LOCAL_FALLBACK"] = True`` (the ``throttle`` cache) the calls go to a
  process-local memory cache while Redis is down, so API rate limits still apply (per
  process) instead of vanishing.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
import time
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
# Seconds a failed server is skipped before it is tried again.
DOWN_SECONDS = 5.0
_down_until: dict[str, float] = {}
_lock = threading.Lock()
_fallbacks: dict[str, LocMemCache] = {}


class _Unavailable(Exception):
    """Raised internally while the server is in its down window."""


def _tolerant(default: Any = None, *, reraise_value_error: bool = False) -> Any:
    def wrap(method: Any) -> Any:
        name = method.__name__
        signature = inspect.signature(method)
        takes_default = "default" in signature.parameters

        @functools.wraps(method)
        def inner(self: ResilientRedisCache, *args: Any, **kwargs: Any) -> Any:
            try:
                if _down_until.get(self._location_key, 0.0) > time.monotonic():
                    raise _Unavailable
                return method(self, *args, **kwargs)
            except (_Unavailable, *_DOWN) as exc:
                if not isinstance(exc, _Unavailable):
                    logger.warning("cache unavailable (%s): %s", name, exc)
                    with _lock:
                        _down_until[self._location_key] = time.monotonic() + DOWN_SECONDS
                fallback = self._fallback()
                if fallback is not None:
                    return getattr(fallback, name)(*args, **kwargs)
                if reraise_value_error:
                    raise ValueError("cache unavailable") from exc
                if takes_default:
                    # The caller's default, positional (``cache.get(key, [])``, as DRF's
                    # throttle calls it) or keyword.
                    bound = signature.bind_partial(self, *args, **kwargs)
                    return bound.arguments.get("default", default)
                return default

        return inner

    return wrap


class ResilientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS") or {})
        self._local_fallback = bool(options.pop("LOCAL_FALLBACK", False))
        super().__init__(server, {**params, "OPTIONS": options})
        self._location_key = server if isinstance(server, str) else ",".join(server)

    def _fallback(self) -> LocMemCache | None:
        if not self._local_fallback:
            return None
        name = f"{self._location_key}|{self.key_prefix}"
        with _lock:
            if name not in _fallbacks:
                _fallbacks[name] = LocMemCache(
                    f"fallback-{name}", {"TIMEOUT": self.default_timeout}
                )
            return _fallbacks[name]

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


def reset_down_state() -> None:
    """Forget every server marked down and the local fallbacks (tests)."""
    with _lock:
        _down_until.clear()
        for fallback in _fallbacks.values():
            fallback.clear()


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]\\" else c for c in text)

from __future__ import annotations

import os

import pytest

from config.cache import ResilientRedisCache


def test_unreachable_redis_is_a_cache_miss_not_an_error():
    cache = ResilientRedisCache(
        "redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}
    )
    assert cache.get("k") is None
    assert cache.get("k", default="fallback") == "fallback"
    assert cache.set("k", 1) is None
    assert cache.add("k", 1) is False
    assert cache.get_many(["a", "b"]) == {}
    try:
        cache.incr("k")
    except ValueError:
        pass
    else:  # pragma: no cover
        raise AssertionError("incr must raise ValueError like a missing key")


@pytest.mark.redis
def test_clear_deletes_this_caches_keys_only():
    """``cache.clear()`` must not FLUSHDB: the broker's queues and another process's cache
    (another xdist worker, another deployment) may share the Redis database."""
    import redis

    url = os.environ["REDIS_URL"]
    mine = ResilientRedisCache(url, {"KEY_PREFIX": f"t-{os.getpid()}-mine"})
    theirs = ResilientRedisCache(url, {"KEY_PREFIX": f"t-{os.getpid()}-mine-not"})
    raw = redis.Redis.from_url(url)
    queue = f"t-{os.getpid()}-queue"
    try:
        mine.set("a", 1)
        mine.set("b", 2, version=3)
        theirs.set("a", 3)
        raw.rpush(queue, "message")
        assert mine.clear() is True
        assert (mine.get("a"), mine.get("b", version=3)) == (None, None)
        assert theirs.get("a") == 3
        assert raw.lrange(queue, 0, -1) == [b"message"]
    finally:
        theirs.clear()
        raw.delete(queue)

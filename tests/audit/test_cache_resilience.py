from __future__ import annotations

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

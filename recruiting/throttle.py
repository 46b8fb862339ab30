"""Per-address rate limit of the public forms, in Django's cache (works without Redis:
local memory in development, Redis when configured)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client as the nearest proxy saw it.

    Behind the documented reverse proxy the last ``X-Forwarded-For`` entry is the one
    the proxy appended; earlier entries are whatever the client sent, so trusting the
    first would let anyone pick a fresh address per request.
    """
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def over_limit(request: HttpRequest, bucket: str = "forms") -> bool:
    """Count this request; True when the address made more than the allowed number of
    form posts in the current minute. The address is hashed before it reaches the cache."""
    limit = settings.RECRUITING_RATE_LIMIT_PER_MINUTE
    address = hashlib.sha256(client_address(request).encode()).hexdigest()[:32]
    key = f"recruiting:rl:{bucket}:{address}"
    try:
        cache.add(key, 0, timeout=60)
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: start again
        cache.set(key, 1, timeout=60)
        count = 1
    except Exception:  # cache down: do not lock people out
        return False
    return count > limit

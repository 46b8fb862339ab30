"""The type of the user a service acts for.

Every service takes ``acting_user: ActingUser``: the signed-in person whose action is
recorded in the history (``AUTH_USER_MODEL`` is Django's own user). A service that a
background job runs says so in its signature (``acting_user: ActingUser | None``, ``None``
being the system, recorded as such).
"""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import User

ActingUser: TypeAlias = User

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from api.services import api_token_create


@pytest.fixture
def api_for() -> Any:
    """An APIClient authenticated with a fresh personal token of ``user``."""

    made: list[Any] = []

    def make(user: Any) -> APIClient:
        made.append(user)
        _token, raw = api_token_create(user=user, name=f"test-{user.pk}-{len(made)}")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return make

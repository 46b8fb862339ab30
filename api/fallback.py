"""JSON answers for API paths that match no route (e.g. ``/api/v1/visits/1.5/``), so an
API client never gets the HTML error page."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework.views import APIView

from .base import ApiViewMixin


class ApiNotFound(ApiViewMixin, APIView):
    """Any other path under ``/api/``: 401 without credentials, else a JSON 404."""

    schema = None  # not an operation of the API

    def handle(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        raise Http404

    get = post = put = patch = delete = head = options = handle

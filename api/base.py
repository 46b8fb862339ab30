"""The API's base classes: the same scoping, permissions and error shape everywhere.

- ``ScopedViewSetMixin.get_queryset`` returns ``Model.objects.visible_to(user)``, so
  another site's record is a 404 through DRF's ``get_object``. It is sealed: a subclass
  that defines ``get_queryset`` or ``get_object`` is a ``TypeError`` at import
  (``access.views.sealed``); subclasses shape the rows in ``get_base_queryset`` (what to
  load, before scoping) and ``optimize`` (joins, deferred columns, after scoping).
- Service errors (Django ``ValidationError``) become 400 with one message list per
  field; ``PermissionDenied`` becomes 403.
- ``IdempotentCreateMixin`` replays the stored response of a POST repeated with the same
  ``Idempotency-Key``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from access.views import sealed, visible

from .models import IdempotencyRecord
from .pagination import KeysetPagination, Pagination

IDEMPOTENCY_HEADER = "HTTP_IDEMPOTENCY_KEY"
__all__ = ["KeysetPagination", "Pagination"]  # settings name api.base.Pagination


def _no_login_redirect(view: Any) -> Any:
    view.login_required = False  # DRF authenticates; the login middleware must not redirect
    return view


class ApiViewMixin:
    """Marks API views exempt from LoginRequiredMiddleware (DRF answers 401/403)."""

    # schema: ``api.schema.ApiAutoSchema`` (set when the app is ready; importing
    # drf-spectacular's AutoSchema here would be circular through DRF's settings).

    @classmethod
    def as_view(cls, *args: Any, **kwargs: Any) -> Any:
        return _no_login_redirect(super().as_view(*args, **kwargs))


class ScopedViewSetMixin(ApiViewMixin):
    queryset_model: Any = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        sealed(cls, ScopedViewSetMixin)

    def get_base_queryset(self) -> Any:
        """What the endpoint lists, before scoping (default: every row of the model)."""
        model = self.queryset_model or self.queryset.model
        return model.objects.all()

    def get_queryset(self) -> Any:
        qs = self.optimize(visible(self.get_base_queryset(), self.request.user))
        return self.defer_for_action(qs)

    def defer_for_action(self, qs: Any) -> Any:
        """Columns this action does not need (e.g. encrypted identity on a list)."""
        return qs

    def optimize(self, qs: Any) -> Any:
        """select_related/prefetch_related so lists cost a constant number of queries."""
        return qs

    def http_method_not_allowed(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # Another site's record is a 404 whatever the method (a 405 would confirm it).
        if (self.lookup_url_kwarg or self.lookup_field) in kwargs:
            self.get_object()
        return super().http_method_not_allowed(request, *args, **kwargs)


def django_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    """A service's ValidationError as DRF's error shape: {field: [messages]}."""
    if not hasattr(exc, "error_dict"):
        return {"non_field_errors": [str(m) for m in exc.messages]}
    return {
        ("non_field_errors" if field == "__all__" else field): [str(m) for m in messages]
        for field, messages in exc.message_dict.items()
    }


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(django_errors(exc))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, exceptions.ValidationError) and _only_unknown_references(exc):
        return _unknown_reference_response(exc)
    return drf_exception_handler(exc, context)


def _codes(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [code for value in detail.values() for code in _codes(value)]
    if isinstance(detail, list):
        return [code for value in detail for code in _codes(value)]
    return [str(detail)]


def _only_unknown_references(exc: exceptions.ValidationError) -> bool:
    """True when every error of a write is a related id that matches nothing visible.

    Such a request is well formed (the schema calls it valid); what it names is not
    there, or is another site's: a 404 like a direct read of that record, with the
    field named. Any other error in the same request keeps the whole answer a 400.
    """
    if not isinstance(exc.detail, dict) or not exc.detail:
        return False
    codes = _codes(exc.get_codes())
    return bool(codes) and set(codes) == {"does_not_exist"}


def _unknown_reference_response(exc: exceptions.ValidationError) -> Response:
    fields = ", ".join(sorted(exc.detail))
    body: dict[str, Any] = {
        "detail": _("No such record among those you may see: %(fields)s.") % {"fields": fields}
    }
    body.update(exc.detail)
    set_rollback()
    return Response(body, status=status.HTTP_404_NOT_FOUND)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=1000,
        help_text="Reason for change; required when editing saved data. Kept in the audit trail.",
    )


class IdempotentCreateMixin:
    """POST with ``Idempotency-Key: <unique string>`` runs once per key and user; a retry
    with the same key and body gets the first response back (and writes nothing), a reuse
    of the key with a different body is a 422."""

    def idempotent(self, request: Any, handler: Any) -> Response:
        key = request.META.get(IDEMPOTENCY_HEADER)
        if not key:
            return handler()
        if len(key) > 200:
            raise exceptions.ValidationError({"Idempotency-Key": [_("At most 200 characters.")]})
        digest = hashlib.sha256(
            json.dumps(request.data, sort_keys=True, default=str).encode() + request.path.encode()
        ).hexdigest()
        existing = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
        if existing is not None:
            return self._replay(existing, digest)
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=request.user,
                    key=key,
                    method=request.method,
                    path=request.path[:300],
                    request_hash=digest,
                )
                response = handler()
                if response.status_code >= 400:
                    # errors are not stored: the client may fix the request and retry
                    transaction.set_rollback(True)
                    return response
                record.status_code = response.status_code
                record.response_body = json.loads(json.dumps(response.data, default=str))
                record.save(update_fields=["status_code", "response_encrypted"])
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
            if existing is None:
                raise
            return self._replay(existing, digest)
        return response

    def _replay(self, record: IdempotencyRecord, digest: str) -> Response:
        if record.request_hash != digest:
            return Response(
                {"detail": _("This Idempotency-Key was used for a different request.")},
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        if record.status_code is None:
            return Response(
                {"detail": _("A request with this Idempotency-Key is in progress.")},
                status=status.HTTP_409_CONFLICT,
            )
        response = Response(record.response_body, status=record.status_code)
        response["Idempotent-Replayed"] = "true"
        return response

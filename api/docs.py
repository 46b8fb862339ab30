"""OpenAPI documentation shared by every endpoint: the error bodies, the standard error
responses (400/401/403/404/429 with ``Retry-After``) and the ``Idempotency-Key`` header.

``api.schema.ApiAutoSchema`` adds these to every operation.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema_serializer,
)
from rest_framework import serializers


@extend_schema_serializer(
    examples=[
        OpenApiExample("Not found", value={"detail": "No Patient matches the given query."}),
    ]
)
class ErrorDetailSerializer(serializers.Serializer):
    """An error that is not about one field: ``detail`` says what went wrong."""

    detail = serializers.CharField(help_text="What went wrong, for people.")


#: 400 body: one list of messages per field (``non_field_errors`` for the request as a
#: whole). Rows of a list are named ``lesions[2].diameter_mm``; a nested object that DRF
#: rejects for its type gives an object of the same shape.
VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "One list of messages per field that is wrong (`non_field_errors`: the "
    "request as a whole). Nothing was saved.",
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {}},
            {"type": "object", "additionalProperties": {}},
            {"type": "string"},
        ]
    },
}

ERROR_400 = OpenApiResponse(
    response=VALIDATION_ERROR_SCHEMA,
    description="Invalid input: each field that is wrong with what is wrong. Nothing was saved.",
    examples=[
        OpenApiExample(
            "Field errors",
            value={
                "actual_date": [
                    "The visit date cannot be in the future (today at this site is 2026-05-04)."
                ],
                "reason": ["A reason for change is required when editing saved data."],
            },
            status_codes=["400"],
        ),
        OpenApiExample(
            "A rule about the whole request",
            value={"non_field_errors": ["This patient already has a baseline assessment."]},
            status_codes=["400"],
        ),
    ],
)
ERROR_401 = OpenApiResponse(
    response=ErrorDetailSerializer,
    description="No valid credentials: send `Authorization: Bearer hbt_…` with an active token.",
    examples=[
        OpenApiExample(
            "No token",
            value={"detail": "Authentication credentials were not provided."},
            status_codes=["401"],
        )
    ],
)
ERROR_403 = OpenApiResponse(
    response=ErrorDetailSerializer,
    description="Your role may not do this for this record's site (nothing was saved).",
    examples=[
        OpenApiExample(
            "Role",
            value={"detail": "You may not enroll patients at this site."},
            status_codes=["403"],
        )
    ],
)
ERROR_404 = OpenApiResponse(
    response=ErrorDetailSerializer,
    description="No such record among those you may see: another site's record is a 404 "
    "(never a 403 that would confirm it exists). Also an out-of-range `page`, a `cursor` "
    "that is not one of the list's `next` / `previous` links (the body names `cursor`), and a write "
    "whose only fault is an id of a related record that does not exist among yours (the "
    "body names the field, as in a 400).",
    examples=[
        OpenApiExample(
            "Not found",
            value={"detail": "No Patient matches the given query."},
            status_codes=["404"],
        )
    ],
)
ERROR_409 = OpenApiResponse(
    response=ErrorDetailSerializer,
    description="A request with the same `Idempotency-Key` is still being processed.",
)
ERROR_422 = OpenApiResponse(
    response=ErrorDetailSerializer,
    description="The `Idempotency-Key` was already used for a different request.",
    examples=[
        OpenApiExample(
            "Key reused",
            value={"detail": "This Idempotency-Key was used for a different request."},
            status_codes=["422"],
        )
    ],
)
ERROR_429 = OpenApiResponse(
    response=ErrorDetailSerializer,
    description="Too many requests from this user (or address, when anonymous): wait the "
    "number of seconds in `Retry-After`.",
    examples=[
        OpenApiExample(
            "Throttled",
            value={"detail": "Request was throttled. Expected available in 42 seconds."},
            status_codes=["429"],
        )
    ],
)

IDEMPOTENCY_PARAM = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (at most 200 characters), e.g. a UUID made once per "
    "action. A retry with the same key and body returns the first response (header "
    "`Idempotent-Replayed: true`) and writes nothing again; the same key with another "
    "body is a 422. Failed requests (4xx) are not remembered: fix and retry with the key.",
)

REASON_HELP = (
    "Reason for change, required when editing saved or submitted data; stored in the "
    "record's history (`GET /api/v1/history/{label}/{id}/`)."
)


def inline_choice_field(choices: Any, **kwargs: Any) -> Any:
    """A ChoiceField whose enum is documented inline rather than as a named component
    (for choice sets whose field name other components already use)."""
    from drf_spectacular.utils import extend_schema_field

    pairs = [(c, c) if isinstance(c, str) else (c[0], c[1]) for c in choices]
    schema: dict[str, Any] = {
        "type": "string",
        "enum": [value for value, _label in pairs],
        "description": "\n".join(f"* `{value}` - {label}" for value, label in pairs),
    }
    if kwargs.get("allow_blank"):
        schema["enum"].append("")

    @extend_schema_field(schema)
    class InlineChoiceField(serializers.ChoiceField):
        pass

    return InlineChoiceField(choices=pairs, **kwargs)

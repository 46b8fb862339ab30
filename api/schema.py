"""drf-spectacular extensions: the token scheme and the schema class of every API view."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from .base import ApiViewMixin
from .docs import ERROR_400, ERROR_401, ERROR_403, ERROR_404, ERROR_409, ERROR_422, ERROR_429

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):  # noqa: ANN001, ANN201
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Personal API token (create one under Account → API tokens): "
            "`Authorization: Bearer hbt_…`.",
        }


class ApiAutoSchema(AutoSchema):
    """Adds the standard error responses (and ``Retry-After`` on 429) to every operation,
    and states that a decimal with ``min_value >= 0`` has no minus sign (a decimal is a
    string in the schema, where JSON Schema's ``minimum`` does not apply)."""

    def _map_serializer_field(
        self, field: Any, direction: str, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        pattern = schema.get("pattern")
        if (
            isinstance(field, serializers.DecimalField)
            and field.min_value is not None
            and field.min_value >= 0
            and isinstance(pattern, str)
            and pattern.startswith("^-?")
        ):
            schema["pattern"] = "^" + pattern[3:]
        return schema

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        standard: dict[str, OpenApiResponse] = {
            "400": ERROR_400,
            "401": ERROR_401,
            "403": ERROR_403,
            "404": ERROR_404,
            "429": ERROR_429,
        }
        if self.method not in WRITE_METHODS and not self._is_list_view():
            del standard["400"]  # a detail GET takes no input that can be invalid
        if self.method == "POST" and any(
            getattr(p, "name", None) == "Idempotency-Key" for p in self.get_override_parameters()
        ):
            standard["409"] = ERROR_409
            standard["422"] = ERROR_422
        for code, response in standard.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses

    def _get_filter_parameters(self) -> list[dict[str, Any]]:
        """Filter parameters without a description get their filter's label (django-filter
        derives it from the model field's verbose name)."""
        parameters = super()._get_filter_parameters()
        filterset_class = getattr(self.view, "filterset_class", None)
        if filterset_class is None:
            backend = next(
                (b for b in self.get_filter_backends() if hasattr(b, "get_filterset_class")),
                None,
            )
            if backend is not None:
                try:
                    queryset = self.view.get_queryset()
                except Exception:  # noqa: BLE001 - schema generation has no real request
                    queryset = getattr(self.view, "queryset", None)
                filterset_class = backend().get_filterset_class(self.view, queryset)
        filters = getattr(filterset_class, "base_filters", {}) if filterset_class else {}
        for parameter in parameters:
            if parameter.get("description"):
                continue
            name = parameter["name"]
            base = name.removesuffix("__in")
            found = filters.get(name) or filters.get(base)
            if name == "ordering":
                parameter["description"] = "Which field to use when ordering the results."
            elif found is not None:
                label = str(found.label or name)
                parameter["description"] = label[:1].upper() + label[1:]
            else:
                parameter["description"] = name.replace("_", " ").capitalize()
        return parameters

    def _get_response_headers_for_code(self, status_code: str, direction: str = "response") -> Any:
        headers = super()._get_response_headers_for_code(status_code, direction)
        if str(status_code) == "429":
            headers["Retry-After"] = {
                "schema": build_basic_type(OpenApiTypes.INT),
                "description": "Seconds to wait before retrying.",
            }
        return headers


# Every API view (ApiViewMixin: the scoped viewsets, history) documents its errors.
ApiViewMixin.schema = ApiAutoSchema()


_DECIMAL_PATTERN = re.compile(r"^\^(-\?)?\\d\{0,(\d+)\}\(\?:\\\.\\d\{0,(\d+)\}\)\?\$$")


def decimal_patterns_postprocess(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular's decimal pattern ``^-?\\d{0,a}(?:\\.\\d{0,b})?$`` also matches
    ``-`` and ``""``, which no DecimalField accepts; state the pattern the API enforces:
    at least one digit."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            pattern = node.get("pattern")
            if node.get("format") == "decimal" and isinstance(pattern, str):
                m = _DECIMAL_PATTERN.match(pattern)
                if m and int(m.group(2)) >= 1 and int(m.group(3)) >= 1:
                    sign, a, b = m.group(1) or "", m.group(2), m.group(3)
                    node["pattern"] = rf"^{sign}(?:\d{{1,{a}}}(?:\.\d{{0,{b}}})?|\.\d{{1,{b}}})$"
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result

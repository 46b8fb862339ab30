"""Pagination of the API lists.

Two styles, chosen per list:

- ``KeysetPagination`` (the large patient-record lists: visits, tumour assessments,
  adverse events, lesions, screenings, consents, enrollments). The cursor carries the
  ordering values of the last row sent, and the next page is "rows after that key" in
  the list's ordering, which always ends with the primary key so the key is unique. The
  database reads one page from the index that matches the ordering, whatever the depth:
  page 40,000 costs what page 1 costs. There is no total count (counting a scoped million
  rows is itself the slow part); follow ``next`` until it is ``null``.
- ``Pagination`` (page numbers, for people who need "page N of M": patients and the
  small reference lists). The count is exact up to ``COUNT_EXACT_LIMIT`` rows; above
  that, on PostgreSQL, it is the planner's estimate and the answer says
  ``"count_is_estimate": true``.

The cursor is opaque to clients (base64 of JSON). A cursor that does not decode, or that
does not fit the requested ordering, is a 404 naming ``cursor``: like a page number past
the end, it names no page of this list (the schema can only call it "a string", so any
string is a well-formed request for a page that may not exist; DRF's own cursor
pagination answers the same).

``page_size`` is a whole number of at least 1 (declared so in the schema); anything else
is a 400 naming it; above the maximum the page is the maximum. ``page`` is a whole number
of at least 1, or ``last``; an empty one is a 400, a number past the end a 404.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal
import json
from collections import OrderedDict
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator as DjangoPaginator
from django.db import connections
from django.db.models import F, Q, QuerySet
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

#: Up to this many rows a page-number list counts exactly; above, PostgreSQL estimates.
COUNT_EXACT_LIMIT = 10_000


def strict_page_size(request: Any, param: str, default: int, maximum: int) -> int:
    """``?page_size=``: absent → the default; a whole number ≥ 1 → itself, at most
    ``maximum``; anything else (``abc``, ``0``, ``-3``, ``2.5``, empty) → a 400 naming it."""
    raw = request.query_params.get(param)
    if raw is None:
        return default
    text = raw.strip()
    if not text.isdigit() or not text.isascii() or int(text) < 1:
        raise exceptions.ValidationError(
            {param: [_("Rows per page: a whole number of at least 1.")]}
        )
    return min(int(text), maximum)


def page_size_parameter(param: str, default: int, maximum: int) -> dict[str, Any]:
    return {
        "name": param,
        "required": False,
        "in": "query",
        "description": f"Rows per page (default {default}; a larger number than {maximum} "
        f"sends {maximum}).",
        "schema": {"type": "integer", "minimum": 1},
    }


# --- page numbers with a bounded count -----------------------------------------------


def planner_estimate(queryset: QuerySet) -> int | None:
    """PostgreSQL's estimate of the rows ``queryset`` returns (``EXPLAIN``), or None."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatingPaginator(DjangoPaginator):
    """Counts at most ``COUNT_EXACT_LIMIT + 1`` rows (one bounded query); a longer list
    gets the planner's estimate on PostgreSQL (one ``EXPLAIN`` more), an exact count
    elsewhere."""

    count_is_estimate = False

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return len(queryset)
        bounded = queryset.order_by()[: COUNT_EXACT_LIMIT + 1].count()
        if bounded <= COUNT_EXACT_LIMIT:
            return bounded
        estimate = planner_estimate(queryset)
        if estimate is None:
            return queryset.count()
        self.count_is_estimate = True
        return max(estimate, bounded)


class Pagination(pagination.PageNumberPagination):
    """``?page=N&page_size=M``: ``{"count", "count_is_estimate", "next", "previous",
    "results"}``."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = EstimatingPaginator

    def get_page_size(self, request: Any) -> int:
        return strict_page_size(
            request, self.page_size_query_param, self.page_size, self.max_page_size
        )

    def get_page_number(self, request: Any, paginator: Any) -> Any:
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and not raw.strip():
            raise exceptions.ValidationError(
                {self.page_query_param: [_("A page number: a whole number of at least 1.")]}
            )
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "A page number within the paginated result set (a number "
                "past the last page is a 404).",
                "schema": {"type": "integer", "minimum": 1},
            },
            page_size_parameter(self.page_size_query_param, self.page_size, self.max_page_size),
        ]

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            OrderedDict(
                [
                    ("count", self.page.paginator.count),
                    ("count_is_estimate", self.page.paginator.count_is_estimate),
                    ("next", self.get_next_link()),
                    ("previous", self.get_previous_link()),
                    ("results", data),
                ]
            )
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count_is_estimate"] = {
            "type": "boolean",
            "description": f"true when the list is longer than {COUNT_EXACT_LIMIT} rows "
            "and `count` is the database's estimate",
        }
        response["required"] = ["count", "count_is_estimate", "results"]
        return response


# --- keyset (cursor) ------------------------------------------------------------------


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def keyset_after(keys: list[tuple[str, bool, bool]], values: list[Any], *, nulls_first: bool) -> Q:
    """Rows strictly after ``values`` in the ordering ``keys``: (field, descending,
    nullable) each, the last one the primary key, so "after" is a strict total order.

    NULLs of a nullable key sort last (first with ``nulls_first``, for the walk back).
    The first key also gets a plain range bound (``>=``/``<=``), which the database
    answers from the index that matches the ordering: a deep page starts where the
    cursor points instead of scanning up to it.
    """
    q = _after(keys, values, nulls_first=nulls_first)
    (field, descending, nullable), value = keys[0], values[0]
    if value is not None:
        bound = Q(**{f"{field}__{'lte' if descending else 'gte'}": value})
        if nullable and not nulls_first:
            bound |= Q(**{f"{field}__isnull": True})
        q &= bound
    return q


def _after(keys: list[tuple[str, bool, bool]], values: list[Any], *, nulls_first: bool) -> Q:
    (field, descending, nullable), rest = keys[0], keys[1:]
    value, later = values[0], values[1:]
    if value is None:
        # after a NULL: the later NULLs of this key, then (walking back) every value
        q = Q(**{f"{field}__isnull": True})
        if rest:
            q &= _after(rest, later, nulls_first=nulls_first)
        else:
            q = Q(pk__in=[])
        return q | Q(**{f"{field}__isnull": False}) if nulls_first else q
    q = Q(**{f"{field}__{'lt' if descending else 'gt'}": value})
    if rest:
        q |= Q(**{field: value}) & _after(rest, later, nulls_first=nulls_first)
    if nullable and not nulls_first:
        q |= Q(**{f"{field}__isnull": True})
    return q


class KeysetPagination(pagination.BasePagination):
    """``?cursor=…&page_size=M``: ``{"next", "previous", "results"}`` (no count).

    The ordering is the view's (``?ordering=`` through ``OrderingFilter``, else the view's
    ``ordering``), with ``id`` appended as the tie-breaker when it is not there yet.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    cursor_query_param = "cursor"

    def get_page_size(self, request: Any) -> int:
        return strict_page_size(
            request, self.page_size_query_param, self.page_size, self.max_page_size
        )

    def get_keys(self, request: Any, queryset: QuerySet, view: Any) -> list[tuple[str, bool, bool]]:
        ordering: list[str] | tuple[str, ...] | None = None
        for backend in getattr(view, "filter_backends", []):
            if hasattr(backend, "get_ordering"):
                ordering = backend().get_ordering(request, queryset, view)
                break
        ordering = list(ordering or getattr(view, "ordering", None) or ["id"])
        keys: list[tuple[str, bool, bool]] = []
        for term in ordering:
            name = term.lstrip("-")
            name = "id" if name == "pk" else name
            if "__" in name:
                raise ValueError(f"keyset ordering on a related field: {term}")
            field = queryset.model._meta.get_field(name)
            keys.append((field.attname, term.startswith("-"), field.null))
            if name == "id":
                break  # unique: anything after it would never be compared
        if keys[-1][0] != "id":
            keys.append(("id", keys[-1][1] if keys else False, False))
        return keys

    def _order_by(self, keys: list[tuple[str, bool, bool]], *, reverse: bool) -> list[Any]:
        """The list's ordering (NULLs last), or its exact reverse (NULLs first). A
        NOT NULL key keeps a plain ASC/DESC, which an ordinary index serves."""
        nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
        terms = []
        for field, descending, nullable in keys:
            order = F(field).desc if descending != reverse else F(field).asc
            terms.append(order(**nulls) if nullable else order())
        return terms

    def _typed(
        self, queryset: QuerySet, keys: list[tuple[str, bool, bool]], values: list[Any]
    ) -> list:
        """The cursor's values as the fields' Python values (a bad one is a 400)."""
        fields = {f.attname: f for f in queryset.model._meta.concrete_fields}
        typed = []
        for (attname, _descending, _nullable), value in zip(keys, values, strict=True):
            if value is None:
                typed.append(None)
                continue
            if isinstance(value, bool) or (isinstance(value, int) and not -(2**63) < value < 2**63):
                raise ValueError("cursor value out of range")
            field = fields[attname]
            target = getattr(field, "target_field", field)
            typed.append(target.to_python(value))
        return typed

    def _bad_cursor(self) -> dict[str, Any]:
        return {
            "detail": _("No such page of this list."),
            self.cursor_query_param: [
                _("Invalid cursor: use the next or previous link of a list answer.")
            ],
        }

    def decode_cursor(
        self, request: Any, keys: list[tuple[str, bool, bool]]
    ) -> dict[str, Any] | None:
        raw = request.query_params.get(self.cursor_query_param)
        if raw is None:
            return None
        try:
            cursor = json.loads(base64.urlsafe_b64decode(raw.encode("ascii") + b"==="))
            values, reverse = cursor["v"], bool(cursor.get("r", False))
            if not isinstance(values, list) or len(values) != len(keys):
                raise ValueError("cursor does not fit this ordering")
            for value in values:
                if not (value is None or isinstance(value, str | int | float | bool)):
                    raise ValueError("cursor value")
        except (ValueError, TypeError, KeyError, UnicodeError, binascii.Error) as exc:
            raise exceptions.NotFound(self._bad_cursor()) from exc
        return {"values": values, "reverse": reverse}

    def encode_cursor(self, values: list[Any], *, reverse: bool) -> str:
        payload: dict[str, Any] = {"v": [_encode_value(v) for v in values]}
        if reverse:
            payload["r"] = 1
        raw = json.dumps(payload, separators=(",", ":")).encode()
        token = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
        return replace_query_param(self.base_url, self.cursor_query_param, token)

    def paginate_queryset(self, queryset: QuerySet, request: Any, view: Any = None) -> list[Any]:
        self.request = request
        self.base_url = request.build_absolute_uri()
        self.page_size = self.get_page_size(request)
        keys = self.get_keys(request, queryset, view)
        cursor = self.decode_cursor(request, keys)
        reverse = bool(cursor and cursor["reverse"])
        queryset = queryset.order_by(*self._order_by(keys, reverse=reverse))
        if cursor is not None:
            walk = [(f, descending != reverse, nullable) for f, descending, nullable in keys]
            try:
                values = self._typed(queryset, keys, cursor["values"])
            except (ValueError, TypeError, DjangoValidationError) as exc:
                raise exceptions.NotFound(self._bad_cursor()) from exc
            where = keyset_after(walk, values, nulls_first=reverse)
            rows = list(queryset.filter(where)[: self.page_size + 1])
        else:
            rows = list(queryset[: self.page_size + 1])
        more = len(rows) > self.page_size
        page = rows[: self.page_size]
        if reverse:
            page.reverse()
        self.keys = keys
        # forwards: a next page if a row followed; a previous page if we came by cursor.
        # backwards: mirrored.
        self.has_next = more if not reverse else True
        self.has_previous = (cursor is not None) if not reverse else more
        if not page:
            self.has_next = self.has_previous = False
        self.page = page
        return page

    def _key_of(self, row: Any) -> list[Any]:
        return [getattr(row, field) for field, _descending, _nullable in self.keys]

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        return self.encode_cursor(self._key_of(self.page[-1]), reverse=False)

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        first = self.page[0]
        return self.encode_cursor(self._key_of(first), reverse=True)

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            OrderedDict(
                [
                    ("next", self.get_next_link()),
                    ("previous", self.get_previous_link()),
                    ("results", data),
                ]
            )
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page (null on the last page).",
                },
                "previous": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The previous page (null on the first page).",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque position in the list: take it from a `next` or "
                "`previous` link.",
                "schema": {"type": "string"},
            },
            page_size_parameter(self.page_size_query_param, self.page_size, self.max_page_size),
        ]

    def get_results(self, data: dict[str, Any]) -> list[Any]:
        return data["results"]


__all__ = ["COUNT_EXACT_LIMIT", "KeysetPagination", "Pagination"]

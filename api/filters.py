"""Filters of the API lists.

An id filter takes any whole number the schema allows (``minimum`` 1, ``maximum``
``MAX_ID``, both declared in the OpenAPI schema): an id that does not exist, or that is
another site's, simply matches nothing (an empty page, never a 400 that would tell the
two apart). A value outside the declared range, or not a number, is a 400 naming the
filter, before anything reaches the database (where an integer beyond 64 bits is an
error). Every list's filter set, generated (``filterset_fields``) or written, uses these
for its foreign keys: ``ApiFilterBackend`` builds the generated ones on ``ApiFilterSet``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

#: The largest id a filter accepts (the id columns are 64-bit; 2**31 - 1 keeps every
#: client, JavaScript included, exact).
MAX_ID = 2**31 - 1
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


@extend_schema_field(ID_SCHEMA)
class IdFilter(filters.NumberFilter):
    """A record id (whole number); an unknown or invisible one matches nothing."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class IdListField(forms.Field):
    """``?arms=1&arms=2``: a list of ids, each in the declared range."""

    widget = forms.SelectMultiple

    def to_python(self, value: Any) -> list[int]:
        if value in self.empty_values:
            return []
        values = value if isinstance(value, (list, tuple)) else [value]
        ids = []
        for item in values:
            try:
                number = int(str(item))
            except ValueError:
                number = 0
            if not 1 <= number <= MAX_ID:
                raise ValidationError(
                    _("“%(pk)s” is not a valid id."), code="invalid_pk_value", params={"pk": item}
                )
            ids.append(number)
        return ids


@extend_schema_field(ID_SCHEMA)
class IdMultipleChoiceFilter(filters.MultipleChoiceFilter):
    """Records linked to any of these ids (``?arms=1&arms=2``); unknown ids match nothing."""

    field_class = IdListField


class StrictBooleanField(forms.Field):
    """``true`` / ``false`` (or 1 / 0) and nothing else: django-filter's default also
    takes ``null`` or ``unknown`` and then silently does not filter."""

    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        try:
            return self.VALUES[str(value).strip().lower()]
        except KeyError:
            raise ValidationError(_("Enter true or false."), code="invalid") from None


class StrictBooleanFilter(filters.BooleanFilter):
    """django-filter's REST ``BooleanFilter`` reads the value through ``BooleanWidget``,
    which turns anything but true/false/1/0 into "no filter" before the field sees it;
    a plain text widget hands the raw value to :class:`StrictBooleanField`."""

    field_class = StrictBooleanField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class ApiFilterSet(filters.FilterSet):
    """A filter set whose foreign keys are :class:`IdFilter` s (not choice lists that
    refuse an unknown id), whose booleans are strict, and where a typed filter given an
    empty value (``?min_grade=``, ``?trial=``) is a 400 naming it: an empty number, date,
    boolean or choice is no value of its type (django-filter would silently not filter).
    Free-text filters (``?site=``) and id lists keep "empty = no filter"."""

    @staticmethod
    def _blank_is_a_value(f: Any) -> bool:
        """A choice whose stored value is "" ("As planned", "No range"): ``?flag=`` asks
        for those rows, as the schema's enum says."""
        choices = f.extra.get("choices") if isinstance(f, filters.ChoiceFilter) else None
        if callable(choices):
            choices = choices()
        return bool(choices) and any(str(value) == "" for value, _label in choices)

    def _given_empty(self, name: str) -> bool:
        return name in self.data and str(self.data.get(name, "")).strip() == ""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        empty = [
            name
            for name, f in self.filters.items()
            if not isinstance(f, filters.CharFilter | filters.MultipleChoiceFilter)
            and not self._blank_is_a_value(f)
            and name in self.form.fields
            and self._given_empty(name)
        ]
        for name in empty:
            if name not in self.form.errors:
                self.form.add_error(name, _("Give a value, or leave the parameter out."))
        return valid and not empty

    def filter_queryset(self, queryset: Any) -> Any:
        queryset = super().filter_queryset(queryset)  # skips every empty value
        for name, f in self.filters.items():
            if self._blank_is_a_value(f) and self._given_empty(name):
                queryset = queryset.filter(**{f.field_name: ""})
        return queryset

    FILTER_DEFAULTS = {
        **filters.FilterSet.FILTER_DEFAULTS,
        models.ForeignKey: {"filter_class": IdFilter},
        models.OneToOneField: {"filter_class": IdFilter},
        models.OneToOneRel: {"filter_class": IdFilter},
        models.BooleanField: {"filter_class": StrictBooleanFilter},
    }


class ApiFilterBackend(filters.DjangoFilterBackend):
    """``filterset_fields`` of every API view are built on :class:`ApiFilterSet`."""

    filterset_base = ApiFilterSet

"""The eligibility engine's reasons in the reader's language.

``domain.eligibility`` phrases each criterion's outcome in English ("Platelet count is 150
x10^9/L; must be >= 75 x10^9/L"); the screening record stores that text as it was decided
(it is part of the record, and stays English). Pages translate it when they show it: the
reason is cut into its criteria at the top-level "and" / "or", each part is read by the
engine's own grammar (``domain/eligibility/rules.py`` and ``wording.py``: "{label} is
{value}; {requirement}", "{label} is missing", ...), and labels, units, choice labels and
requirements are translated from the screening catalogue's messages. A part the grammar
does not know leaves the whole reason in English: a reader never gets half a sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_noop as _

# The engine's sentence shapes, most specific first. The names say what a part is, and so
# how it is translated (see ``_KINDS``).
LEAF_TEMPLATES: tuple[str, ...] = (
    _("{label} has the unusable value {quoted}{detail}; {requirement}"),
    _("{label} cannot be determined: {names} is missing"),
    _("{label} cannot be determined: {names} are missing"),
    _("{label} cannot be determined: {problem}"),
    _("{label} is missing"),
    _("{label} is recorded; {requirement}"),
    _("{label} is not recorded; {requirement}"),
    _("{label} is {value} ({detail}); {requirement}"),
    _("{label} is {value}; {requirement}"),
)
REQUIREMENT_TEMPLATES: tuple[str, ...] = (
    _("must be between {low} and {high}"),
    _("must be below {low} or above {high}"),
    _("must be one of: {values}"),
    _("must be none of: {values}"),
    _("must be recorded"),
    _("must not be recorded"),
    _("must not be {value}"),
    _("must be <= {value}"),
    _("must be >= {value}"),
    _("must be < {value}"),
    _("must be > {value}"),
    _("must be {value}"),
)
DETAIL_TEMPLATES: tuple[str, ...] = (
    _("{number} with ULN {uln}"),
    _("permit expires {date}, planned follow-up ends {end}"),
    _("{label} {date}, screening date {end}"),
    _("{label} {date}, {other} {end}"),
)
LABEL_TEMPLATES: tuple[str, ...] = (
    _("Age"),
    _("Years since {label}"),
    _("Days since {label}"),
    _("Days until {label}"),
    _("Days from {label} to {other}"),
    _("{label} (x ULN)"),
    _("Residence permit valid through the planned end of follow-up"),
)
PROBLEM_TEMPLATES: tuple[str, ...] = (
    _("date of birth is after the screening date"),
    _("planned follow-up is out of range"),
    _("{label} must be positive"),
    _("unusable value ({described})"),
)
WORDS: tuple[str, ...] = (
    _("yes"),
    _("no"),
    _("years"),
    _("days"),
    _("weeks"),
    _("about {number}"),
    _(", "),
    _("; and "),
    _("; or "),
    _("Applies to expatriate patients only."),
)

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_NUMBER = re.compile(r"(?P<about>about )?(?P<number>-?\d+(?:\.\d+)?)(?: (?P<unit>.+))?")
_SPLIT = re.compile(r" (and|or) (?=[A-Z(])")
#: Placeholders with a shape of their own (dates are ISO dates; the rest is any text).
_SHAPES = {"date": r"\d{4}-\d{2}-\d{2}", "end": r"\d{4}-\d{2}-\d{2}"}


class _Unknown(Exception):
    """A part the grammar does not know: the reason stays English."""


@lru_cache(maxsize=8)
def _compiled(templates: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    out = []
    for template in templates:
        parts = _PLACEHOLDER.split(template)
        regex = "".join(
            re.escape(p) if i % 2 == 0 else f"(?P<{p}>{_SHAPES.get(p, '.+?')})"
            for i, p in enumerate(parts)
        )
        out.append((template, re.compile(regex, re.DOTALL)))
    return tuple(out)


def _word(text: str) -> str:
    """A catalogue message (label, choice, unit), also when the engine lower-cased its
    first letter inside a sentence ("date of birth")."""
    for candidate in (text, text[:1].upper() + text[1:]):
        translated = gettext(candidate)
        if translated != candidate:
            return translated
    if (
        re.fullmatch(r"[\d\s.,:/+\-<>=]*", text)
        or re.fullmatch(r"[A-Z0-9\-/ ]{1,12}", text)
        or re.fullmatch(r"\S*[/^%]\S*", text)
    ):
        # numbers, dates, codes ("ECOG", "A") and units ("x10^9/L", "µmol/L") read the
        # same in Chinese
        return text
    raise _Unknown(text)


def _match(templates: tuple[str, ...], text: str) -> str:
    for template, pattern in _compiled(templates):
        found = pattern.fullmatch(text)
        if found is None:
            continue
        try:
            values = {name: _KINDS[name](value) for name, value in found.groupdict().items()}
        except _Unknown:
            continue  # e.g. "A (5-6 points)" is a choice, not a value with its detail
        return gettext(template).format(**values)
    raise _Unknown(text)


def _label(text: str) -> str:
    try:
        return _word(text)
    except _Unknown:
        return _match(LABEL_TEMPLATES, text[:1].upper() + text[1:])


def _value(text: str) -> str:
    number = _NUMBER.fullmatch(text)
    if number:
        shown = number["number"]
        if number["about"]:
            shown = gettext("about {number}").format(number=shown)
        return f"{shown} {_word(number['unit'])}" if number["unit"] else shown
    return _word(text)


def _values(text: str) -> str:
    return gettext(", ").join(_value(v) for v in text.split(", "))


def _names(text: str) -> str:
    *head, last = text.split(" and ")
    items = [n for chunk in head for n in chunk.split(", ")] + [last]
    return gettext(", ").join(_label(n) for n in items)


def _detail(text: str) -> str:
    return _match(DETAIL_TEMPLATES, text)


def _requirement(text: str) -> str:
    return _match(REQUIREMENT_TEMPLATES, text)


def _problem(text: str) -> str:
    return _match(PROBLEM_TEMPLATES, text)


_KINDS: dict[str, Callable[[str], str]] = {
    "label": _label,
    "other": _label,
    "value": _value,
    "low": _value,
    "high": _value,
    "number": _value,
    "uln": _value,
    "quoted": lambda t: t,
    "values": _values,
    "names": _names,
    "detail": _detail,
    "requirement": _requirement,
    "problem": _problem,
    "described": lambda t: t,
    "date": lambda t: t,
    "end": lambda t: t,
}


def _part(text: str) -> str:
    if text.startswith("(") and text.endswith(")"):
        return "（" + _reason(text[1:-1]) + "）"
    return _match(LEAF_TEMPLATES, text)


def _reason(text: str) -> str:
    """Cut at a top-level "and" / "or" (outside parentheses, before a capital letter or a
    parenthesis: where the engine joins two criteria's reasons). Labels may hold such a
    word too ("ALT and ALT upper limit of normal are missing"), so each cut is kept only
    if both sides read by the grammar; the first cut that works wins."""
    try:
        return _part(text)
    except _Unknown:
        pass
    for found in _SPLIT.finditer(text):
        head = text[: found.start()]
        if head.count("(") != head.count(")"):
            continue
        try:
            first, rest = _part(head), _reason(text[found.end() :])
        except _Unknown:
            continue
        join = gettext("; and ") if found.group(1) == "and" else gettext("; or ")
        return first + join + rest
    raise _Unknown(text)


def translate_reason(text: str | None) -> str | None:
    """An eligibility reason in the active language (the English text when any part of
    it is unknown, or when the active language is English)."""
    if not text or (get_language() or "en").lower().startswith("en"):
        return text
    exact = gettext(text)
    if exact != text:
        return exact
    try:
        return _reason(text)
    except _Unknown:
        return text

"""The eligibility rule editor: builds a criterion's rule JSON from fields, and a
"try this rule" box that evaluates a rule on sample answers with the same engine the
screening uses (``domain.eligibility``: called, never copied).

A page (``/trials/rule-editor/``) for trial configurators, without JavaScript: the form
posts back, the page shows the built JSON (to paste into the criterion's *rule* in the
trial's admin page) and, with sample answers, the decision and its reason.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from domain.eligibility import (
    FIELD_CATALOGUE,
    OPERATORS,
    FieldType,
    RuleError,
    evaluate,
    validate_rule,
)
from domain.json_limits import too_deep
from sites.roles import Perm
from sites.scoping import has_perm

ROWS = 4
_NO_VALUE = {"is_true", "is_false", "present"}
_LISTS = {"in", "not_in"}


def _field_choices() -> list[tuple[str, str]]:
    return [("", "—")] + sorted(
        ((name, f"{spec.label} ({name})") for name, spec in FIELD_CATALOGUE.items()),
        key=lambda c: c[1].lower(),
    )


def parse_value(field: str, text: str) -> Any:
    """A typed value of ``field`` from what a person typed (raises ValueError)."""
    spec = FIELD_CATALOGUE.get(field)
    text = (text or "").strip()
    kind = spec.type if spec is not None else FieldType.CHOICE
    if kind is FieldType.INT:
        return int(text)
    if kind is FieldType.DECIMAL:
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(text) from exc
        return int(number) if number == number.to_integral_value() else float(number)
    if kind is FieldType.BOOL:
        lowered = text.lower()
        if lowered in ("true", "yes", "1", "是"):
            return True
        if lowered in ("false", "no", "0", "否"):
            return False
        raise ValueError(text)
    if kind is FieldType.DATE:
        return datetime.date.fromisoformat(text).isoformat()
    return text


class ConditionForm(forms.Form):
    field = forms.ChoiceField(label=gettext_lazy("Field"), required=False)
    op = forms.ChoiceField(
        label=gettext_lazy("Operator"),
        required=False,
        choices=[("", "—")] + [(o, o) for o in OPERATORS],
    )
    value = forms.CharField(
        label=gettext_lazy("Value"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("Lists and ranges: separated by commas."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = _field_choices()

    def leaf(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        field, op, raw = data.get("field"), data.get("op"), data.get("value") or ""
        if not field and not op:
            return None
        if not field:
            self.add_error("field", _("Choose a field."))
            return None
        if not op:
            self.add_error("op", _("Choose an operator."))
            return None
        leaf: dict[str, Any] = {"field": field, "op": op}
        if op in _NO_VALUE:
            return leaf
        try:
            if op in _LISTS:
                leaf["value"] = [parse_value(field, v) for v in raw.split(",") if v.strip()]
            elif op == "between":
                low, high = (parse_value(field, v) for v in raw.split(","))
                leaf["value"] = [low, high]
            else:
                leaf["value"] = parse_value(field, raw)
        except ValueError:
            self.add_error("value", _("This value does not fit the field."))
            return None
        return leaf


class RuleEditorForm(forms.Form):
    combine = forms.ChoiceField(
        label=gettext_lazy("Combine the conditions"),
        choices=[
            ("all", gettext_lazy("all must hold")),
            ("any", gettext_lazy("any may hold")),
        ],
        initial="all",
    )
    negate = forms.BooleanField(label=gettext_lazy("Negate the whole rule"), required=False)
    rule = forms.CharField(
        label=gettext_lazy("Rule (JSON)"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 70}),
        help_text=gettext_lazy(
            "Built from the conditions above; or paste a rule here to try it (leave the "
            "conditions empty)."
        ),
    )
    answers = forms.CharField(
        label=gettext_lazy("Sample answers"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 40}),
        help_text=gettext_lazy("One per line: field = value, e.g. ecog = 1"),
    )


def _answers(text: str, form: RuleEditorForm) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    bad: list[str] = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, raw = line.partition("=")
        name = name.strip()
        if not sep or name not in FIELD_CATALOGUE:
            bad.append(_("line %(n)s: unknown field %(name)s") % {"n": n, "name": name or "?"})
            continue
        try:
            answers[name] = parse_value(name, raw)
        except ValueError:
            bad.append(_("line %(n)s: the value does not fit %(name)s") % {"n": n, "name": name})
    for problem in bad:
        form.add_error("answers", problem)
    return answers


def rule_editor(request: HttpRequest) -> HttpResponse:
    if not has_perm(request.user, Perm.CONFIGURE_TRIAL):
        raise PermissionDenied
    data = request.POST if request.method == "POST" else None
    form = RuleEditorForm(data)
    rows = [ConditionForm(data, prefix=f"c{n}") for n in range(ROWS)]
    rule: Any = None
    outcome = None
    if data is not None and form.is_valid() and all(r.is_valid() for r in rows):
        leaves = [leaf for r in rows if (leaf := r.leaf()) is not None]
        if leaves:
            rule = leaves[0] if len(leaves) == 1 else {form.cleaned_data["combine"]: leaves}
            if form.cleaned_data["negate"]:
                rule = {"not": rule}
        elif form.cleaned_data["rule"].strip():
            text = form.cleaned_data["rule"]
            if too_deep(text):
                form.add_error("rule", _("The rule nests too deep."))
            else:
                try:
                    rule = json.loads(text)
                except json.JSONDecodeError as exc:
                    form.add_error(
                        "rule",
                        _("The rule is not valid JSON (line %(line)s, column %(col)s).")
                        % {"line": exc.lineno, "col": exc.colno},
                    )
        elif not any(r.errors for r in rows):
            form.add_error(None, _("Add a condition, or paste a rule."))
        if rule is not None:
            for problem in validate_rule(rule, FIELD_CATALOGUE):
                form.add_error("rule", _("The rule is not valid: %(p)s") % {"p": problem})
        answers = _answers(form.cleaned_data.get("answers", ""), form)
        if rule is not None and not form.errors and form.cleaned_data.get("answers", "").strip():
            try:
                outcome = evaluate(rule, answers)
            except RuleError as exc:
                form.add_error("rule", str(exc))
    built = json.dumps(rule, indent=2, ensure_ascii=False) if rule is not None else ""
    return render(
        request,
        "trials/rule_editor.html",
        {"form": form, "rows": rows, "built": built, "outcome": outcome},
    )

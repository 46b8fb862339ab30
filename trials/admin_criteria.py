"""Admin for eligibility criteria (imported by ``trials/admin.py``).

The rule is edited as JSON. A rule that is not valid JSON, or that the evaluator would
not accept (``domain.eligibility.validate_rule``: unknown field or operator,
wrong value type, implausible threshold, ...), is refused with one message per problem,
each naming where in the rule it is.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from domain.eligibility import DERIVED_FIELDS, FIELD_CATALOGUE, OPERATORS, validate_rule
from domain.json_limits import MAX_JSON_DEPTH, too_deep
from sites.admin_base import ReasonForChangeForm, ScopedAdmin

from .models import EligibilityCriterion, ProtocolVersion

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z")

RULE_HELP = _(
    'JSON. A comparison: {"field": "ecog", "op": "<=", "value": 1}. Combine rules with '
    '{"all": [...]}, {"any": [...]} or {"not": rule}. Operators: %(ops)s. Dates are '
    'written "YYYY-MM-DD". For an exclusion, the rule describes the excluding condition. '
    "The fields are listed under “Field reference”."
)


class RuleField(forms.JSONField):
    """JSON with the parser's position in the error, shown indented."""

    def to_python(self, value: Any) -> Any:
        if self.disabled or value in self.empty_values:
            return super().to_python(value)
        if isinstance(value, list | dict | int | float):
            return value
        if too_deep(value):
            raise ValidationError(
                _("The rule nests deeper than %(limit)d levels."),
                code="invalid",
                params={"limit": MAX_JSON_DEPTH},
            )
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                _(
                    "The rule is not valid JSON (line %(line)s, column %(column)s: %(problem)s). "
                    "Use double quotes around names and text."
                ),
                code="invalid",
                params={"line": exc.lineno, "column": exc.colno, "problem": exc.msg},
            ) from exc

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False)


class EligibilityCriterionForm(ReasonForChangeForm):
    rule = RuleField(
        label=_("rule"),
        widget=forms.Textarea(attrs={"rows": 14, "cols": 80, "class": "rule-json"}),
    )

    class Meta:
        model = EligibilityCriterion
        exclude = ("trial",)  # always the protocol version's trial

    class Media:
        css = {"all": ["css/admin_rules.css"]}  # no inline style (Content-Security-Policy)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rule"].help_text = RULE_HELP % {"ops": " ".join(OPERATORS)}

    def clean_code(self) -> str:
        code = (self.cleaned_data.get("code") or "").strip()
        if not _CODE.match(code):
            raise ValidationError(
                _("Use letters, digits, dots, hyphens and underscores only, e.g. INC-ECOG.")
            )
        return code

    def clean_rule(self) -> Any:
        rule = self.cleaned_data.get("rule")
        problems = validate_rule(rule, FIELD_CATALOGUE)
        if problems:
            raise ValidationError(
                [
                    ValidationError(_("The rule is not valid: %(problem)s"), params={"problem": p})
                    for p in problems
                ]
            )
        return rule

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        version = data.get("protocol_version")
        if version is not None:
            self.instance.trial = version.trial
        return data

    def _update_errors(self, errors: ValidationError) -> None:
        # The model's clean() validates the rule again, on the instance, which still
        # holds the old rule when the form refused the new one: keep the form's message.
        if hasattr(errors, "error_dict") and self.has_error("rule"):
            errors.error_dict.pop("rule", None)
            if not errors.error_dict:
                return
        super()._update_errors(errors)


@admin.register(EligibilityCriterion)
class EligibilityCriterionAdmin(ScopedAdmin):
    form = EligibilityCriterionForm
    list_display = ("code", "kind", "applies_to", "short_text", "protocol_version", "order")
    list_filter = (
        ("trial", admin.RelatedOnlyFieldListFilter),
        ("protocol_version", admin.RelatedOnlyFieldListFilter),
        "kind",
        "applies_to",
    )
    list_select_related = ("protocol_version__trial",)
    search_fields = ("code", "text", "text_zh")
    ordering = ("trial", "protocol_version", "order", "code")
    readonly_fields = ("field_reference",)

    @admin.display(description=_("text"))
    def short_text(self, obj: EligibilityCriterion) -> str:
        return obj.text if len(obj.text) <= 90 else obj.text[:87] + "…"

    @admin.display(description=_("Field reference"))
    def field_reference(self, obj: EligibilityCriterion | None = None) -> str:
        def describe(spec: Any) -> str:
            if spec.choices:
                return ", ".join(code for code, _label in spec.choices)
            if spec.min_value is not None and spec.type.value in ("int", "decimal"):
                unit = f" {spec.unit}" if spec.unit else ""
                return f"{spec.min_value} – {spec.max_value}{unit}"
            return ""

        raw = format_html_join(
            "",
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (name, spec.type.value, spec.label, describe(spec))
                for name, spec in FIELD_CATALOGUE.items()
            ),
        )
        derived = format_html_join(
            "",
            "<tr><td><code>{}</code></td><td colspan='3'>{}</td></tr>",
            DERIVED_FIELDS.items(),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}{}</tbody></table>",
            _("field"),
            _("type"),
            _("meaning"),
            _("values"),
            raw,
            derived,
        )

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "protocol_version":
            kwargs["queryset"] = ProtocolVersion.objects.visible_to(request.user).select_related(
                "trial"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

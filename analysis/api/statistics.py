"""Trial statistics in the API: the dashboard's figures, read-only.

The same dictionary as the dashboard (``analysis.selectors.trial_statistics_for``):
scoped to the sites the user may see and blinded (no arm-level efficacy in a blinded
trial without the unblinded-view permission)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from sites.mixins import require_perm
from sites.roles import Perm
from trials.api.views import TrialViewSet

from ..selectors import trial_statistics_for

STATISTICS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The dashboard's figures at today's cutoff: `trial`, `cutoff_date`, "
    "`overall` (response rates with confidence intervals, survival), `by_arm` and "
    "`comparisons` (only with `arm_level` true), `enrollment` (per month and site, targets), "
    "patient-level rows (waterfall, swimmer), `analysis_settings` (the statistical "
    "analysis plan the figures follow: time origin, CI band, ORR null rate and sidedness, "
    "landmarks, population, not-yet-assessable handling, primary BOR), `data_quality` "
    "(records that contradict themselves, by subject and field), `forest` (subgroups), "
    "`scope` (`trial_wide`, `sites`, "
    "`site_filter`, `visible_sites`) and, for site roles, `trial_level` (the whole trial's "
    "aggregates without patient-level rows). Figures are cached; `computed_at` says when.",
    "properties": {
        "cutoff_date": {"type": "string", "format": "date"},
        "arm_level": {"type": "boolean"},
        "analysis_settings": {"type": "object", "additionalProperties": True},
        "data_quality": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "subject_id": {"type": "string"},
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
        "computed_at": {"type": "string", "nullable": True},
        "scope": {
            "type": "object",
            "properties": {
                "trial_wide": {"type": "boolean"},
                "sites": {"type": "array", "items": {"type": "string"}},
                "site_filter": {"type": "string", "nullable": True},
                "visible_sites": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
                    },
                },
            },
        },
        "trial_level": {"type": "object", "nullable": True, "additionalProperties": True},
    },
    "additionalProperties": True,
}


class TrialStatisticsViewSet(TrialViewSet):
    """Trials you take part in (configured by data managers in the admin), and their
    statistics."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "site",
                str,
                OpenApiParameter.QUERY,
                required=False,
                description="Site code: only this site's figures (one of the sites you may "
                "see; another is a 404).",
            )
        ],
        responses={
            200: OpenApiResponse(
                STATISTICS_SCHEMA, description="The same figures as the trial's dashboard."
            )
        },
        description="Trial statistics (needs the dashboard permission: site investigator, "
        "lead investigator, monitor, data manager).",
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def statistics(self, request: Any, pk: Any = None, **kwargs: Any) -> Response:
        trial = self.get_object()
        require_perm(request.user, Perm.VIEW_DASHBOARD, trial=trial)
        site = (request.query_params.get("site") or "").strip() or None
        return Response(trial_statistics_for(trial=trial, user=request.user, site_code=site))

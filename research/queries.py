"""Characterisation and survival of a saved cohort as one logged, throttled query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from . import characterise as ch
from . import cohorts as svc
from .models import Cohort, CohortQuery


@dataclass(frozen=True)
class AnalysisParams:
    anchor: str = "diagnosis"
    endpoint: str = "os"
    split: Cohort | None = None

    @classmethod
    def from_query(cls, data: Any, *, user: Any) -> AnalysisParams:
        """Unknown values fall back to the defaults (a page never fails on them)."""
        anchor = data.get("anchor") if data.get("anchor") in ch.ANCHORS else "diagnosis"
        endpoint = data.get("endpoint") if data.get("endpoint") in ch.ENDPOINTS else "os"
        split = None
        raw = data.get("split")
        if raw and str(raw).isdigit():
            split = Cohort.objects.visible_to(user).filter(pk=int(raw)).first()
        return cls(anchor, endpoint, split)


def cohort_analysis(*, cohort: Cohort, params: AnalysisParams, acting_user: Any) -> dict[str, Any]:
    if not svc.may_query_aggregates(acting_user):
        raise PermissionDenied(_("You may not query registry aggregates."))
    tree = cohort.criteria
    if params.split is not None:
        tree = {"all": [cohort.criteria, params.split.criteria]}
    svc.check_throttle(user=acting_user, tree=tree, kind=CohortQuery.Kind.SURVIVAL)
    threshold = svc.threshold()
    patients = svc.matching_patients(cohort)
    if params.split is None:
        groups = [(cohort.name, patients)]
    else:
        inside = svc.matching_patients({"all": [cohort.criteria, params.split.criteria]})
        outside = svc.matching_patients({"all": [cohort.criteria, {"not": params.split.criteria}]})
        groups = [
            (_("not %(name)s") % {"name": params.split.name}, outside),
            (params.split.name, inside),
        ]
    result = {
        "characterisation": ch.characterise(patients, threshold=threshold, rows=False),
        "survival": ch.survival(
            groups, anchor=params.anchor, endpoint=params.endpoint, threshold=threshold
        ),
    }
    own = svc.cohort_patients(cohort, acting_user)
    if own.exists():
        result["own_center_alterations"] = ch.alteration_matrix(own, threshold, rows=True)
    svc.log_query(
        user=acting_user,
        kind=CohortQuery.Kind.SURVIVAL,
        tree=tree,
        cohort=cohort,
        result={
            "persons": result["characterisation"]["persons"],
            "anchor": params.anchor,
            "endpoint": params.endpoint,
            "curves": [{"label": c["label"], "n": c["n"]} for c in result["survival"]["curves"]],
        },
    )
    return result

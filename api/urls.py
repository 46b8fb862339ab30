from django.contrib.auth.decorators import login_not_required, login_required
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from analysis.api.statistics import TrialStatisticsViewSet
from api.fallback import ApiNotFound
from audit.api.views import HistoryView
from clinical.api.views import (
    ConcomitantMedicationViewSet,
    ExposureViewSet,
    LabResultViewSet,
    ProcedureViewSet,
    VitalSignsViewSet,
)
from exports.api import ExportJobViewSet
from monitoring.api.views import (
    DataQueryViewSet,
    LockViewSet,
    SignatureViewSet,
    VerificationViewSet,
)
from patients.api.workflows import (
    AdverseEventViewSet,
    ConsentViewSet,
    EnrollmentViewSet,
    LesionViewSet,
    PatientWorkflowViewSet,
    ScreeningViewSet,
    TumorAssessmentViewSet,
    VisitViewSet,
)
from registry.api.views import ROUTES as REGISTRY_ROUTES
from research.api.extracts import ROUTES as EXTRACT_ROUTES
from research.api.views import ROUTES as RESEARCH_ROUTES
from sites.api.views import SiteViewSet, TrialSiteViewSet
from trials.api.reference import ConsentVersionViewSet, VisitDefinitionViewSet
from trials.api.views import ArmViewSet, InterventionViewSet, ProtocolVersionViewSet

router = DefaultRouter()
router.register("trials", TrialStatisticsViewSet)
router.register("arms", ArmViewSet)
router.register("interventions", InterventionViewSet)
router.register("protocol-versions", ProtocolVersionViewSet)
router.register("consent-versions", ConsentVersionViewSet)
router.register("visit-definitions", VisitDefinitionViewSet)
router.register("sites", SiteViewSet)
router.register("trial-sites", TrialSiteViewSet)
router.register("patients", PatientWorkflowViewSet)
router.register("screenings", ScreeningViewSet)
router.register("consents", ConsentViewSet)
router.register("enrollments", EnrollmentViewSet)
router.register("visits", VisitViewSet)
router.register("adverse-events", AdverseEventViewSet)
router.register("tumor-assessments", TumorAssessmentViewSet)
router.register("lesions", LesionViewSet)
router.register("lab-results", LabResultViewSet)
router.register("vital-signs", VitalSignsViewSet)
router.register("exposures", ExposureViewSet)
router.register("procedures", ProcedureViewSet)
router.register("concomitant-medications", ConcomitantMedicationViewSet)
router.register("exports", ExportJobViewSet)
router.register("queries", DataQueryViewSet)
router.register("verifications", VerificationViewSet)
router.register("signatures", SignatureViewSet)
router.register("locks", LockViewSet)
for _prefix, _viewset, _basename in [*REGISTRY_ROUTES, *RESEARCH_ROUTES, *EXTRACT_ROUTES]:
    router.register(_prefix, _viewset, basename=_basename)

v1 = [
    *router.urls,
    path("history/<str:label>/<int:pk>/", HistoryView.as_view(), name="history"),
]

urlpatterns = [
    path("v1/", include((v1, "api"), namespace="v1")),
    path("schema/", login_not_required(SpectacularAPIView.as_view()), name="schema"),
    path(
        "docs/",
        # behind the login (the schema itself stays public for API clients); DRF marks
        # its views login_not_required, so the page asks for the login itself
        login_required(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="swagger-ui",
    ),
    # last: any other /api/ path is a JSON 404 (401 without credentials), never HTML
    re_path(r"^", ApiNotFound.as_view(), name="not-found"),
]

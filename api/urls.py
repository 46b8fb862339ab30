from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from audit.api.views import HistoryView
from patients.api.views import PatientViewSet
from sites.api.views import SiteViewSet, TrialSiteViewSet
from trials.api.views import ArmViewSet, InterventionViewSet, ProtocolVersionViewSet, TrialViewSet

router = DefaultRouter()
router.register("trials", TrialViewSet)
router.register("arms", ArmViewSet)
router.register("interventions", InterventionViewSet)
router.register("protocol-versions", ProtocolVersionViewSet)
router.register("sites", SiteViewSet)
router.register("trial-sites", TrialSiteViewSet)
router.register("patients", PatientViewSet)

v1 = [
    *router.urls,
    path("history/<str:label>/<int:pk>/", HistoryView.as_view(), name="history"),
]

urlpatterns = [
    path("v1/", include((v1, "api"), namespace="v1")),
    path("schema/", login_not_required(SpectacularAPIView.as_view()), name="schema"),
    path(
        "docs/",
        login_not_required(SpectacularSwaggerView.as_view(url_name="schema")),
        name="swagger-ui",
    ),
]

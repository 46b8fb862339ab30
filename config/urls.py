from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.templatetags.static import static
from django.urls import include, path

from analysis import urls as analysis_urls
from api import views as api_views
from sites.views import home, set_language_and_remember
from trials import urls as trials_urls


@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


admin.site.site_header = "Hepato-biliary trials administration"
admin.site.site_title = "HB trials admin"


def _favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico on pages that name no icon (e.g. a PDF). The URL is
    resolved per request: the static manifest does not exist yet when collectstatic
    imports this module."""
    return HttpResponseRedirect(static("favicon.png"))


urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/setlang/", set_language_and_remember, name="set_language"),
    path("patients/", include("patients.urls")),
    path("clinical/", include("clinical.urls")),
    # One namespace, "trials": the protocol pages and the trial's dashboard (analysis app).
    path(
        "trials/",
        include((trials_urls.urlpatterns + analysis_urls.urlpatterns, trials_urls.app_name)),
    ),
    path("history/", include("audit.urls")),
    path("exports/", include("exports.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("registry/", include("registry.urls")),
    path("research/", include("research.urls")),
    path("account/tokens/", api_views.token_list, name="api-tokens"),
    path("account/tokens/<int:pk>/revoke/", api_views.token_revoke, name="api-token-revoke"),
    path("api/", include("api.urls")),
    path("recruiting/", include("recruiting.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", login_not_required(_favicon), name="favicon"),
]

# Error pages: the public recruiting area gets its own, cookie-free ones (recruiting/errors.py).
handler400 = "recruiting.errors.handler400"
handler403 = "recruiting.errors.handler403"
handler404 = "recruiting.errors.handler404"
handler500 = "recruiting.errors.handler500"

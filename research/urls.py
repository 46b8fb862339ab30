from django.urls import path

from . import views, views_extracts

app_name = "research"

urlpatterns = [
    path("cohorts/", views.cohort_list, name="cohorts"),
    path("cohorts/new/", views.cohort_new, name="cohort_new"),
    path("cohorts/<int:pk>/", views.cohort_detail, name="cohort"),
    path("cohorts/<int:pk>/edit/", views.cohort_edit, name="cohort_edit"),
    path("cohorts/<int:pk>/analysis/", views.cohort_analysis, name="cohort_analysis"),
    path("queries/", views.query_log, name="queries"),
    path("feasibility/", views.feasibility_list, name="feasibility"),
    path("feasibility/<int:pk>/", views.feasibility_trial, name="feasibility_trial"),
    path("cohorts/<int:pk>/export/", views_extracts.cohort_export, name="cohort_export"),
    path("requests/", views_extracts.request_list, name="requests"),
    path("requests/new/", views_extracts.request_new, name="request_new"),
    path("requests/<int:pk>/", views_extracts.request_detail, name="request"),
    path(
        "requests/<int:pk>/decide/<int:site_id>/",
        views_extracts.request_decide,
        name="request_decide",
    ),
    path("requests/<int:pk>/withdraw/", views_extracts.request_withdraw, name="request_withdraw"),
    path("requests/<int:pk>/extract/status/", views_extracts.extract_status, name="extract_status"),
    path("requests/<int:pk>/extract/file/", views_extracts.extract_file, name="extract_file"),
    path("requests/<int:pk>/extract/retry/", views_extracts.extract_retry, name="extract_retry"),
]

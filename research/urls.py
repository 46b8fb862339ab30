from django.urls import path

from . import views

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
]

from django.urls import path

from . import rule_editor, views, views_dashboard

app_name = "trials"
urlpatterns = [
    path("", views.trial_list, name="list"),
    path("<int:pk>/", views.trial_detail, name="detail"),
    path("rule-editor/", rule_editor.rule_editor, name="rule_editor"),
    path("dashboards/", views.dashboards, name="dashboards"),
    path("consent-documents/<int:pk>/", views.consent_document, name="consent_document"),
    path("<int:pk>/dashboard/", views_dashboard.dashboard, name="dashboard"),
    path("<int:pk>/dashboard/data.json", views_dashboard.dashboard_data, name="dashboard_data"),
    path(
        "<int:pk>/dashboard/waterfall.json",
        views_dashboard.dashboard_waterfall,
        name="dashboard_waterfall",
    ),
    path(
        "<int:pk>/dashboard/swimmer.json",
        views_dashboard.dashboard_swimmer,
        name="dashboard_swimmer",
    ),
    path("<int:pk>/dashboard/<str:chart>.csv", views_dashboard.dashboard_csv, name="dashboard_csv"),
]

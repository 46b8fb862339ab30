"""The dashboard pages, mounted by ``config/urls.py`` in the ``trials`` namespace under
``/trials/`` (URL names and paths as before the analysis app: ``trials:dashboard``, ...)."""

from django.urls import path

from . import views

urlpatterns = [
    path("<int:pk>/dashboard/", views.dashboard, name="dashboard"),
    path("<int:pk>/dashboard/data.json", views.dashboard_data, name="dashboard_data"),
    path(
        "<int:pk>/dashboard/waterfall.json",
        views.dashboard_waterfall,
        name="dashboard_waterfall",
    ),
    path(
        "<int:pk>/dashboard/swimmer.json",
        views.dashboard_swimmer,
        name="dashboard_swimmer",
    ),
    path("<int:pk>/dashboard/<str:chart>.csv", views.dashboard_csv, name="dashboard_csv"),
]

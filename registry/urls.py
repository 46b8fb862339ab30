from django.urls import path

from . import views

app_name = "registry"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("patients/new/", views.patient_new, name="new"),
    path("patients/<int:pk>/", views.patient_detail, name="detail"),
    path("patients/<int:pk>/edit/", views.patient_edit, name="edit"),
    path(
        "patients/<int:pk>/<str:domain>/add/",
        views.domain_add,
        {"kind": "patient"},
        name="patient_add",
    ),
    path(
        "tumours/<int:pk>/<str:domain>/add/",
        views.domain_add,
        {"kind": "tumour"},
        name="tumour_add",
    ),
    path(
        "genomic-tests/<int:pk>/<str:domain>/add/",
        views.domain_add,
        {"kind": "test"},
        name="test_add",
    ),
    path(
        "imaging-studies/<int:pk>/<str:domain>/add/",
        views.domain_add,
        {"kind": "study"},
        name="study_add",
    ),
    *[
        path(
            f"{segment}/<int:pk>/edit/",
            views.record_edit,
            {"segment": segment},
            name=f"edit_{segment.replace('-', '_')}",
        )
        for segment in views.EDITABLE_RECORDS
    ],
    path("imports/", views.import_list, name="imports"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/templates/<str:domain>.csv", views.import_template, name="import_template"),
    path("aggregates/", views.aggregates, name="aggregates"),
]

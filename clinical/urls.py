from django.urls import path

from . import views

app_name = "clinical"

urlpatterns = [
    path("visits/<int:pk>/labs/", views.labs_new, name="labs_new"),
    path("visits/<int:pk>/vitals/", views.vitals_new, name="vitals_new"),
    path("visits/<int:pk>/dosing/", views.dosing_new, name="dosing_new"),
    path("visits/<int:pk>/conmeds/", views.conmed_new, name="conmed_new"),
    path("visits/<int:pk>/procedure/", views.procedure_new, name="procedure_new"),
    path("visits/<int:pk>/forms/<str:form_code>/", views.form_note, name="form_note"),
    path("labs/<int:pk>/adverse-event/", views.lab_adverse_event, name="lab_adverse_event"),
    path("labs/<int:pk>/dismiss/", views.lab_dismiss, name="lab_dismiss"),
]

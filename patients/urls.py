from django.urls import path

from . import views
from .views import safety_overview
from .views import tumor as tumor_views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("register/", views.patient_register, name="register"),
    path("<int:pk>/", views.patient_detail, name="detail"),
    path("<int:pk>/edit/", views.patient_edit, name="edit"),
    # Screening (patients/views/screening.py)
    path("<int:pk>/screen/", views.patient_screen, name="screen"),
    path("screenings/<int:pk>/", views.screening_detail, name="screening_detail"),
    path("screening-log/", views.screening_log, name="screening_log"),
    path("<int:pk>/consent/", views.consent_create, name="consent"),
    path("consents/<int:pk>/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path("<int:pk>/enroll/", views.patient_enroll, name="enroll"),
    path(
        "enrollments/<int:pk>/first-treatment/",
        views.enrollment_first_treatment,
        name="first_treatment",
    ),
    path("enrollments/<int:pk>/unblind/", views.enrollment_unblind, name="unblind"),
    # Visits, end-of-study status and adverse events (patients/views/visits.py, safety.py)
    path("visits/<int:pk>/", views.visit_detail, name="visit_detail"),
    path("visits/<int:pk>/submit/", views.visit_submit, name="visit_submit"),
    path("visits/<int:pk>/reschedule/", views.visit_reschedule, name="visit_reschedule"),
    path("visits/<int:pk>/missed/", views.visit_missed, name="visit_missed"),
    path("<int:pk>/visits/unscheduled/", views.visit_unscheduled, name="visit_unscheduled"),
    path("<int:pk>/status/", views.patient_status, name="status"),
    path("<int:pk>/adverse-events/new/", views.ae_new, name="ae_new"),
    path("adverse-events/", views.ae_list, name="ae_list"),
    path("adverse-events/<int:pk>/", views.ae_detail, name="ae_detail"),
    path("adverse-events/<int:pk>/edit/", views.ae_edit, name="ae_edit"),
    # Safety page and SAE reporting (patients/views/safety_overview.py)
    path("safety/", safety_overview.safety_overview, name="safety"),
    path(
        "safety/adverse-events/<int:pk>/reported/",
        safety_overview.sae_report,
        name="sae_report",
    ),
    path(
        "safety/adverse-events/<int:pk>/expectedness/",
        safety_overview.sae_expectedness,
        name="sae_expectedness",
    ),
    # Tumour assessments (patients/views/tumor.py)
    path(
        "<int:pk>/assessments/baseline/",
        tumor_views.assessment_baseline,
        name="assessment_baseline",
    ),
    path("<int:pk>/assessments/new/", tumor_views.assessment_new, name="assessment_new"),
    path("assessments/<int:pk>/", tumor_views.assessment_detail, name="assessment_detail"),
    path("assessments/<int:pk>/edit/", tumor_views.assessment_edit, name="assessment_edit"),
]

from django.urls import path

from . import views

app_name = "monitoring"

urlpatterns = [
    path("queries/", views.query_list, name="queries"),
    path("queries/new/", views.query_new, name="query_new"),
    path("queries/<int:pk>/", views.query_detail, name="query"),
    path("record/", views.record_panel, name="record"),
    path("casebook/<int:pk>/sign/", views.casebook_sign, name="casebook_sign"),
    path("sdv/", views.sdv_overview, name="sdv"),
    path("locks/", views.lock_list, name="locks"),
    path("locks/<int:pk>/release/", views.lock_release, name="lock_release"),
    path("trials/<int:pk>/run-checks/", views.run_checks, name="run_checks"),
    path("second-factor/", views.second_factor, name="second_factor"),
    path("second-factor/qr.svg", views.second_factor_qr, name="second_factor_qr"),
]

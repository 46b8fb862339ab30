from django.urls import path

from . import rule_editor, views

# The dashboard pages (analysis/urls.py) join this namespace in config/urls.py.
app_name = "trials"
urlpatterns = [
    path("", views.trial_list, name="list"),
    path("<int:pk>/", views.trial_detail, name="detail"),
    path("rule-editor/", rule_editor.rule_editor, name="rule_editor"),
    path("dashboards/", views.dashboards, name="dashboards"),
    path("consent-documents/<int:pk>/", views.consent_document, name="consent_document"),
]

from django.urls import path

from . import views

app_name = "trials"
urlpatterns = [
    path("", views.trial_list, name="list"),
    path("<int:pk>/", views.trial_detail, name="detail"),
]

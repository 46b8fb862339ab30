from django.urls import path

from . import views_public, views_staff

app_name = "recruiting"

urlpatterns = [
    # Staff: the referral inbox (login required).
    path("inbox/", views_staff.inbox, name="inbox"),
    path("clinics/<int:pk>/capacity/", views_staff.clinic_capacity, name="clinic_capacity"),
    path("referrals/<int:pk>/", views_staff.referral_detail, name="referral"),
    path("referrals/<int:pk>/accept/", views_staff.referral_accept, name="referral_accept"),
    path("referrals/<int:pk>/propose/", views_staff.referral_propose, name="referral_propose"),
    path("referrals/<int:pk>/decline/", views_staff.referral_decline, name="referral_decline"),
    path("referrals/<int:pk>/register/", views_staff.referral_register, name="referral_register"),
    # Public pages (no login).
    path("", views_public.index, name="index"),
    path("<str:lang>/", views_public.trial_list, name="trials"),
    path("<str:lang>/<str:code>/", views_public.trial_detail, name="trial"),
    path("<str:lang>/<str:code>/check/", views_public.prescreen_view, name="prescreen"),
    path("<str:lang>/<str:code>/request/", views_public.book, name="book"),
]

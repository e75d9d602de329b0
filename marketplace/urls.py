from django.urls import path

from marketplace import views

urlpatterns = [
    path("ask/", views.ask, name="ask"),
    path("workbench/profile/", views.lawyer_profile, name="lawyer_profile"),
]

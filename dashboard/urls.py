from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.live, name="live"),
    path("verifications/", views.verification_list, name="verifications"),
    path("lawyers/", views.lawyers, name="lawyers"),
    path("lawyers/<int:lawyer_id>/decide/", views.lawyer_decide, name="lawyer_decide"),
]

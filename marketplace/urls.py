from django.urls import path

from marketplace import views

urlpatterns = [
    path("ask/", views.ask, name="ask"),
]

from django.urls import path

from pages import views

app_name = "pages"

urlpatterns = [
    path("consults/", views.my_consults, name="my_consults"),
    path("consults/<int:consult_id>/", views.consult_room, name="consult"),
    path("workbench/", views.workbench, name="workbench"),
    path("notices/", views.notices, name="notices"),
    path("status/", views.service_status, name="status"),
]

from django.urls import path

from billing import views, webhooks

app_name = "billing"

urlpatterns = [
    path("stripe/webhook", webhooks.stripe_webhook, name="stripe_webhook"),
    path("pay/<int:payment_id>/", views.payment_page, name="pay"),
]

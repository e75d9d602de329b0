"""/account/: the signed-in user's own account page and the posts its forms make."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.account_view, name="account"),
    path("profile/", views.account_profile_view, name="account_profile"),
    path("email/", views.account_email_view, name="account_email"),
    path("email/resend/", views.account_email_resend_view, name="account_email_resend"),
    path("password/", views.account_password_view, name="account_password"),
    path(
        "tokens/<int:token_id>/revoke/",
        views.account_token_revoke_view,
        name="account_token_revoke",
    ),
    path("delete/", views.account_delete_view, name="account_delete"),
]

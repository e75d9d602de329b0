from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("register/", views.register_view, name="register"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    # the link mailed to a new address: a page with a button, so that a mail scanner
    # fetching the link confirms nothing
    path("email/confirm/<str:token>/", views.email_confirm_view, name="email_confirm"),
    path("password/reset/", views.password_reset_view, name="password_reset"),
    path("password/reset/sent/", views.password_reset_sent_view, name="password_reset_sent"),
    # the link in the mail; it moves the token into the session and redirects to
    # .../set-password/, so the token is not in the address bar, history or a Referer
    path(
        "password/reset/<uidb64>/<token>/",
        views.password_reset_link_view,
        name="password_reset_link",
    ),
]

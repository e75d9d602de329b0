from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User


class RegisterForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=30)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=128)
    role = forms.ChoiceField(
        label=_("I am"),
        choices=[(User.Role.ASKER, _("Looking for legal help")), (User.Role.LAWYER, _("A lawyer"))],
        widget=forms.RadioSelect,
        initial=User.Role.ASKER,
    )
    phone = forms.CharField(label=_("Mobile number (optional)"), max_length=20, required=False)


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=128)


class ProfileForm(forms.Form):
    last_name = forms.CharField(label=_("Family name"), max_length=150, required=False)
    first_name = forms.CharField(label=_("Given name"), max_length=150, required=False)
    # checked by the service, with registration's rule (accounts.services.phone_clean)
    phone = forms.CharField(label=_("Mobile number (optional)"), max_length=20, required=False)


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(
        label=_("Current password"),
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("New password"),
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    # left to the service, which answers deletion_not_confirmed as the API does
    confirm = forms.BooleanField(
        label=_("I understand that my account is closed for good."), required=False
    )


class EmailChangeForm(forms.Form):
    # checked by the service (accounts.services.email_clean): empty removes the address
    email = forms.CharField(
        label=_("E-mail (for password reset)"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Your password"),
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PasswordResetRequestForm(forms.Form):
    login = forms.CharField(
        label=_("Username or e-mail"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )


class PasswordResetSetForm(forms.Form):
    new_password = forms.CharField(
        label=_("New password"),
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
    )
    new_password_again = forms.CharField(
        label=_("New password again"),
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        first, again = data.get("new_password"), data.get("new_password_again")
        if first and again and first != again:
            self.add_error("new_password_again", _("The two passwords are not the same."))
        return data

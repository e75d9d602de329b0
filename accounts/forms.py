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

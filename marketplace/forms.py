from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from config.money import format_money
from marketplace import selectors, services
from marketplace.models import LawyerProfile, Region

MODE_PUBLIC = "public"
MODE_FREE = "free"
MODE_PAID = "paid"


def city_choices(
    grouped: list[tuple[Region, list[Region]]] | None = None,
) -> list[tuple[str, list[tuple[str, str]]]]:
    """Cities grouped by province, for a <select> with <optgroup>s (`grouped`: the provinces
    and their cities when the caller already read them)."""
    return [
        (province.name, [(c.code, c.name) for c in cities])
        for province, cities in (grouped if grouped is not None else selectors.cities_by_province())
    ]


def paid_bounds_missed(yuan: Decimal, currency: str) -> dict[str, str] | None:
    """None when a paid price in yuan is within the bounds billing accepts; else the bounds
    written as money, for a message in yuan rather than the service's minor units."""
    low, high = settings.CONSULT_PRICE_MIN, settings.CONSULT_PRICE_MAX
    if low <= yuan * 100 <= high:
        return None
    return {"low": format_money(low, currency), "high": format_money(high, currency)}


class AskForm(forms.Form):
    title = forms.CharField(
        label=_("Your question in one line"),
        max_length=services.TITLE_MAX_CHARS,
        help_text=_("For example: my employer has not paid me for three months, what can I do?"),
    )
    body = forms.CharField(
        label=_("What happened"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=services.BODY_MAX_CHARS,
        help_text=_(
            "Dates, amounts and what you have tried help the lawyer. Do not include ID numbers."
        ),
    )
    category = forms.ChoiceField(label=_("Practice area"))
    city = forms.ChoiceField(label=_("Your city"))
    mode = forms.ChoiceField(
        label=_("How would you like an answer?"),
        choices=[
            (MODE_FREE, _("Free consultation: chat with an online lawyer now")),
            (
                MODE_PAID,
                _("Paid consultation: a first reply guaranteed in time, or you pay nothing"),
            ),
            (MODE_PUBLIC, _("Just post it publicly for lawyers to answer")),
        ],
        initial=MODE_FREE,
        widget=forms.RadioSelect,
    )
    price = forms.DecimalField(
        label=_("Price you offer (yuan)"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=9,
        decimal_places=2,
        help_text=_("Lawyers asking this much or less see your consultation."),
    )
    is_public = forms.BooleanField(
        label=_("Also list the question publicly so other lawyers can answer"),
        required=False,
        initial=True,
    )
    is_anonymous = forms.BooleanField(label=_("Hide my name"), required=False, initial=True)
    lawyer = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args,
        fixed_price: int | None = None,
        named_is_free: bool = False,
        currency: str = "CNY",
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [  # type: ignore[attr-defined]
            ("", _("Choose…")),
            *[(c.slug, c.name) for c in selectors.category_list()],
        ]
        self.fields["city"].choices = [("", _("Choose…")), *city_choices()]  # type: ignore[attr-defined]
        # a named lawyer's own price is the consult's price (in fen)
        self.fixed_price = fixed_price
        # a named lawyer who charges nothing takes free consultations only
        self.named_is_free = named_is_free
        self.currency = currency
        if fixed_price:
            self.fields["price"].widget.attrs["readonly"] = "readonly"

    def clean(self):
        data = super().clean() or {}
        mode = data.get("mode")
        if mode == MODE_FREE and self.fixed_price:
            self.add_error(
                "mode",
                _(
                    "This lawyer charges %(price)s per consultation: choose a paid "
                    "consultation, or ask without naming a lawyer."
                )
                % {"price": format_money(self.fixed_price, self.currency)},
            )
        elif mode == MODE_PAID and self.named_is_free:
            self.add_error(
                "mode", _("This lawyer's consultations are free: choose a free consultation.")
            )
        elif mode == MODE_PAID and self.fixed_price is None and "price" not in self.errors:
            self._clean_offered_price(data.get("price"))
        return data

    def _clean_offered_price(self, price: Decimal | None) -> None:
        """The price the asker offers, within the bounds billing accepts (checked here too, so
        the message speaks yuan in the asker's language instead of the service's minor units)."""
        if not price:
            self.add_error("price", _("Enter the price you offer."))
            return
        bounds = paid_bounds_missed(price, self.currency)
        if bounds:
            self.add_error("price", _("Offer between %(low)s and %(high)s.") % bounds)

    @property
    def paid(self) -> bool:
        return self.cleaned_data.get("mode") == MODE_PAID

    def price_in_fen(self) -> int:
        """Money is integer minor units: yuan with two decimals → fen, exactly."""
        if not self.paid:
            return 0
        if self.fixed_price is not None:
            return self.fixed_price
        return int(self.cleaned_data["price"] * 100)


def region_served_choices(
    grouped: list[tuple[Region, list[Region]]],
) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each province as a whole, then its cities, grouped by province."""
    return [
        (
            province.name,
            [
                (province.code, _("All of %(province)s") % {"province": province.name}),
                *[(c.code, c.name) for c in cities],
            ],
        )
        for province, cities in grouped
    ]


class RegionChecklist(forms.CheckboxSelectMultiple):
    """Checkboxes folded by province, the provinces with a choice open and first: a list a
    person can scan and tick, unlike a Ctrl-click multiple select of some 400 regions."""

    template_name = "marketplace/widgets/region_checklist.html"

    def get_context(self, name: str, value: Any, attrs: dict | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        groups = [
            {
                "name": group,
                "options": options,
                "chosen": sum(1 for option in options if option["selected"]),
            }
            for group, options, _index in context["widget"]["optgroups"]
        ]
        # the provinces already served first, so a saved choice is seen without scrolling
        context["widget"]["groups"] = sorted(groups, key=lambda group: not group["chosen"])
        return context


class LawyerProfileForm(forms.Form):
    """The lawyer's own profile. Only shapes the input: `services.lawyer_profile_update`
    validates it and its messages become this form's errors."""

    license_number = forms.CharField(
        label=_("Practice certificate number"),
        max_length=32,
        help_text=_("The 15–18 digit number on your lawyer's practice certificate."),
    )
    city = forms.ChoiceField(label=_("Home city"))
    regions_served = forms.MultipleChoiceField(
        label=_("Regions served"),
        required=False,
        widget=RegionChecklist,
        help_text=_(
            "Open a province to tick its cities, or the whole province. Leave empty to serve "
            "your home city only."
        ),
    )
    categories = forms.MultipleChoiceField(
        label=_("Practice areas"), widget=forms.CheckboxSelectMultiple
    )
    capacity = forms.IntegerField(
        label=_("Consultations at once"),
        help_text=_("How many consultations you can hold at the same time."),
    )
    price = forms.DecimalField(
        label=_("Price per consultation (yuan)"),
        min_value=Decimal("0"),
        max_digits=9,
        decimal_places=2,
        help_text=_("0 for free consultations."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        grouped = selectors.cities_by_province()
        self.fields["city"].choices = [("", _("Choose…")), *city_choices(grouped)]  # type: ignore[attr-defined]
        self.fields["regions_served"].choices = region_served_choices(grouped)  # type: ignore[attr-defined]
        self.fields["categories"].choices = [  # type: ignore[attr-defined]
            (c.slug, c.name) for c in selectors.category_list()
        ]

    def clean_price(self) -> Decimal:
        """The paid bounds said in yuan here; the service holds them again in minor units."""
        price = self.cleaned_data["price"]
        bounds = paid_bounds_missed(price, settings.BILLING_DEFAULT_CURRENCY) if price else None
        if bounds:
            raise forms.ValidationError(
                _("A paid consultation costs from %(low)s to %(high)s; enter 0 for free.") % bounds,
                code="invalid_price",
            )
        return price

    def service_arguments(self) -> dict:
        """The cleaned input as `services.lawyer_profile_update` takes it."""
        data = self.cleaned_data
        return {
            "license_number": data["license_number"],
            "city": data["city"],
            "regions_served": data["regions_served"] or [data["city"]],
            "categories": data["categories"],
            "capacity": data["capacity"],
            # money is integer minor units: yuan with two decimals → fen, exactly
            "price": int(data["price"] * 100),
        }

    @staticmethod
    def initial_from(profile: LawyerProfile | None) -> dict:
        if profile is None:
            return {"capacity": 3, "price": Decimal(0)}
        return {
            "license_number": profile.license_number,
            "city": profile.home_city_id or "",
            "regions_served": [r.code for r in profile.regions_served.all()],
            "categories": [c.slug for c in profile.categories.all()],
            "capacity": profile.capacity,
            "price": Decimal(profile.price) / 100,
        }

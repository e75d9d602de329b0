from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from marketplace import selectors


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "marketplace/home.html",
        {"categories": selectors.category_list(), "provinces": selectors.region_list()},
    )

from django.apps import AppConfig


class PagesConfig(AppConfig):
    """Pages for askers and lawyers: home, consult room (waiting screen + chat), my consults,
    the lawyer workbench. Reads only; every write goes through the JSON API or the socket."""

    name = "pages"
    verbose_name = "Pages"

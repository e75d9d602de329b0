"""One account per e-mail address (case-insensitive), since password reset links go by mail.

Registration through the API took any address before, so two accounts may share one: the
account that registered it first keeps it, the others lose it (they can add an address again
on the account page). Nothing personal is printed."""

import django.db.models.functions.text
from django.db import migrations, models


def empty_shared_addresses(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    kept: set[str] = set()
    for pk, email in (
        User.objects.exclude(email="").order_by("date_joined", "pk").values_list("pk", "email")
    ):
        if email.lower() in kept:
            User.objects.filter(pk=pk).update(email="")
        else:
            kept.add(email.lower())


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(empty_shared_addresses, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("email"),
                condition=models.Q(("email", ""), _negated=True),
                name="accounts_user_email_ci_unique",
            ),
        ),
    ]

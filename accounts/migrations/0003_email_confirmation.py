"""A new e-mail address is confirmed by a link before it counts (accounts.services).

`email` keeps the confirmed address and a new claim waits in `email_pending`. The addresses
stored so far stay in `email`, that is, they count as confirmed: demo accounts and earlier
users had no way to confirm one, and moving them to "pending" would stop their password reset
mails at once. The unique constraint on `email` is unchanged; it now holds among confirmed
addresses, as pending ones are unique to nothing."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_email_unique")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="email_pending",
            field=models.EmailField(blank=True, max_length=254),
        ),
        migrations.AddField(
            model_name="user",
            name="email_pending_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="user",
            name="password_changed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]

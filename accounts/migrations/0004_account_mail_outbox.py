"""The outbox of account mails (accounts.outbox): a mail asked for is a row written with the
change that causes it, sent by its task or, when that was lost with the broker, by beat's
sweep. New and empty: mails asked for before it went by their tasks alone."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_email_confirmation"),
    ]

    operations = [
        migrations.CreateModel(
            name="AccountMail",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("reset", "Password Reset"),
                            ("email-confirm", "Email Confirm"),
                            ("password-changed", "Password Changed"),
                            ("email-changed", "Email Changed"),
                        ],
                        max_length=32,
                    ),
                ),
                ("language", models.CharField(max_length=16)),
                ("address", models.EmailField(blank=True, max_length=254)),
                (
                    "state",
                    models.CharField(
                        choices=[("pending", "Pending"), ("sent", "Sent"), ("dropped", "Dropped")],
                        default="pending",
                        max_length=16,
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("attempted_at", models.DateTimeField(blank=True, null=True)),
                ("done_at", models.DateTimeField(blank=True, null=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        condition=models.Q(("state", "pending")),
                        fields=["created_at"],
                        name="accounts_mail_pending_idx",
                    ),
                    models.Index(
                        condition=models.Q(("state", "pending"), _negated=True),
                        fields=["done_at"],
                        name="accounts_mail_done_idx",
                    ),
                ],
            },
        ),
    ]

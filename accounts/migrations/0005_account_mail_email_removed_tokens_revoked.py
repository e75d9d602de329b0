"""Account mails: a notice to a removed confirmed address, and the count of API tokens a password
change revoked, which its notice tells. The new column defaults to 0: rows waiting already
go out as before, without the sentence."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_account_mail_outbox"),
    ]

    operations = [
        migrations.AddField(
            model_name="accountmail",
            name="tokens_revoked",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="accountmail",
            name="kind",
            field=models.CharField(
                choices=[
                    ("reset", "Password Reset"),
                    ("email-confirm", "Email Confirm"),
                    ("password-changed", "Password Changed"),
                    ("email-changed", "Email Changed"),
                    ("email-removed", "Email Removed"),
                ],
                max_length=32,
            ),
        ),
    ]

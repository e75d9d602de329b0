from django.db import migrations


def load(apps, schema_editor):
    from marketplace.reference_data import load_reference_data

    load_reference_data(apps.get_model("marketplace", "Region"), apps.get_model("marketplace", "Category"))


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]

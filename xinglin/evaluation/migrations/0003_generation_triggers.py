"""Triggers that keep the data generation current (xinglin/core/generation.py)."""

from django.db import migrations


def install(apps, schema_editor):
    from xinglin.core import generation

    generation.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from xinglin.core import generation

    generation.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0002_data_change"),
        ("collection", "0002_confirmedwarning_submission_submissionevent_and_more"),
        ("network", "0001_initial"),
        ("standards", "0003_pack_adoption"),
        ("plans", "0001_initial"),
    ]

    operations = [migrations.RunPython(install, uninstall)]

"""Institutions' ownership and roles. On SQLite, adding a column with a default rebuilds the
table, which drops its data-generation triggers: they are installed again at the end."""

from django.db import migrations, models

from xinglin.core import generation


def reinstall_triggers(apps, schema_editor):
    generation.install(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("network", "0001_initial"),
        ("evaluation", "0003_generation_triggers"),
    ]

    operations = [
        migrations.AddField(
            model_name="orgunit",
            name="ownership",
            field=models.CharField(
                blank=True,
                choices=[("public", "Public"), ("private", "Private")],
                default="public",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="orgunit",
            name="roles",
            field=models.CharField(
                blank=True, help_text="';'-separated role codes", max_length=200
            ),
        ),
        migrations.RunPython(reinstall_triggers, migrations.RunPython.noop),
    ]

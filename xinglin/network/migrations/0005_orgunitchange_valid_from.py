from django.db import migrations, models


def _as_recorded(apps, schema_editor):
    """Changes recorded before this field held from the day they were recorded."""
    OrgUnitChange = apps.get_model("network", "OrgUnitChange")
    for change in OrgUnitChange.objects.filter(valid_from__isnull=True).only("id", "at"):
        OrgUnitChange.objects.filter(pk=change.pk).update(valid_from=change.at.date())


class Migration(migrations.Migration):
    dependencies = [("network", "0004_alter_orgunit_institution_type")]

    operations = [
        migrations.AddField(
            model_name="orgunitchange",
            name="valid_from",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.RunPython(_as_recorded, migrations.RunPython.noop),
    ]

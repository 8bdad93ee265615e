"""Evidence carries the period it covers (the one-truth issue's dated evidence).

Existing evidence is dated by the day it was uploaded: for an item needing the year's records
(and for an item no longer in its pack) it covers the year of that day; for a
standing document it is valid from that day on."""

from __future__ import annotations

from datetime import date

from django.db import migrations, models
from django.utils import timezone

from xinglin.core import generation


def date_existing_evidence(apps, schema_editor):
    from xinglin.plans.indicators import find_indicator

    Evidence = apps.get_model("plans", "Evidence")
    IndicatorLink = apps.get_model("plans", "IndicatorLink")
    for evidence in Evidence.objects.all().iterator():
        day = timezone.localtime(evidence.uploaded_at).date()
        if evidence.task_id:
            refs = IndicatorLink.objects.filter(task_id=evidence.task_id).values_list(
                "pack", "indicator"
            )
        else:
            refs = [(evidence.pack, evidence.indicator)]
        kinds = {getattr(find_indicator(p, i), "evidence_kind", "") for p, i in refs}
        # as plans.actions.evidence_kind_for: a task's evidence is annual when a linked item
        # is; an item's evidence follows the item (unknown items: the year, the stricter)
        standing = "annual" not in kinds if evidence.task_id else kinds == {"standing"}
        evidence.period_start = day if standing else date(day.year, 1, 1)
        evidence.period_end = None if standing else date(day.year, 12, 31)
        evidence.save(update_fields=["period_start", "period_end"])


def reinstall_triggers(apps, schema_editor):
    generation.install(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("plans", "0001_initial"),
        ("evaluation", "0003_generation_triggers"),
    ]

    operations = [
        migrations.AddField(
            model_name="evidence",
            name="period_start",
            field=models.DateField(null=True, verbose_name="covers from"),
        ),
        migrations.AddField(
            model_name="evidence",
            name="period_end",
            field=models.DateField(blank=True, null=True, verbose_name="covers until"),
        ),
        migrations.RunPython(date_existing_evidence, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="evidence",
            name="period_start",
            field=models.DateField(verbose_name="covers from"),
        ),
        migrations.RunPython(reinstall_triggers, migrations.RunPython.noop),
    ]

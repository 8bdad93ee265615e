"""Fewer indexes and no database-level foreign keys on the audit table (W3: each is paid for
by every value an import writes; see the comments in collection/models.py).

Data values keep their table: SQLite would rebuild it to change `db_index` (and drop the
data-generation triggers with it), so the two indexes are dropped by name instead. The audit
table is rebuilt on SQLite to lose its REFERENCES clauses (it has no triggers)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

VALUE_INDEXES = [
    ("collection_datavalue_element_id_9d956f2a", "element_id"),
    ("collection_datavalue_stored_by_id_50f62058", "stored_by_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("collection", "0003_submission_data_version"),
        ("network", "0001_initial"),
        ("standards", "0003_pack_adoption"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="element",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                to="standards.dataelement",
            ),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="orgunit",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                to="network.orgunit",
            ),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="user",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="datavalue",
                    name="element",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="values",
                        to="standards.dataelement",
                    ),
                ),
                migrations.AlterField(
                    model_name="datavalue",
                    name="stored_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {name}",
                    f"CREATE INDEX {name} ON collection_datavalue ({column})",
                )
                for name, column in VALUE_INDEXES
            ],
        ),
    ]

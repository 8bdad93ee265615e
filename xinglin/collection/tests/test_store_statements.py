"""The store's raw SQL is generated from the models' fields (lib.statements): every statement
accounts for every column of DataValue and AuditEntry, and a field added to either is an error
naming it, before anything is written, until the store says what the field gets."""

from __future__ import annotations

import re

import pytest
from django.db import models

from xinglin.collection import store
from xinglin.collection.actions import write_rows
from xinglin.collection.models import AuditEntry, Channel, DataValue
from xinglin.collection.tests.conftest import HMC
from xinglin.core import generation
from xinglin.lib import statements
from xinglin.lib.statements import StatementError
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement


def _columns(model) -> list[str]:
    """The model's columns but its automatic primary key, straight from _meta."""
    return [f.column for f in model._meta.concrete_fields if not f.primary_key]


def _insert_columns(sql: str) -> list[str]:
    names = re.match(r"INSERT INTO \S+ \(([^)]*)\) SELECT ", sql).group(1)
    return [name.strip().strip('"') for name in names.split(",")]


def _set_columns(sql: str) -> set[str]:
    return {part.split("=")[0].strip().strip('"') for part in sql.split(", ")}


def test_each_insert_names_every_column_of_its_model():
    assert _insert_columns(store._insert_staged_values()) == _columns(DataValue)
    assert _insert_columns(store._insert_staged_audit()) == _columns(AuditEntry)


def test_a_change_sets_every_column_but_the_key_and_the_comment():
    changed = _set_columns(store._change_set("s.value"))
    assert changed == {"value", "stored_by_id", "channel", "updated_at"}
    assert changed | set(store._KEPT_ON_CHANGE) == set(_columns(DataValue))
    assert set(store._KEY) == {"orgunit_id", "element_id", "period", "combo"}


def test_a_statement_that_leaves_a_column_out_or_names_another_is_refused():
    with pytest.raises(StatementError, match=r"collection\.DataValue.* comment"):
        statements.insert_select(
            DataValue, {c: c for c in _columns(DataValue) if c != "comment"}, "FROM x"
        )
    with pytest.raises(StatementError, match="has no column colour"):
        statements.column_values(DataValue, dict.fromkeys([*_columns(DataValue), "colour"]))
    with pytest.raises(StatementError, match="both changed and kept"):
        statements.update_set(DataValue, {"value": "1"}, kept=_columns(DataValue))


@pytest.fixture
def add_field():
    """add_field(model): a field added to the model for the test only (in its _meta, as a new
    field in models.py would be), removed after the test."""
    added = []

    def add(model):
        field = models.CharField(max_length=20, default="", blank=True)
        field.contribute_to_class(model, "added_in_a_test")
        model._meta._expire_cache()
        added.append((model, field))

    yield add
    for model, field in added:
        model._meta.local_fields.remove(field)
        delattr(model, "added_in_a_test")
        model._meta._expire_cache()


def _rows(value: float):
    elements = [DataElement.objects.get(code=c) for c in ("total_visits", "tcm_visits")]
    unit = OrgUnit.objects.get(code=HMC)
    return [(e, unit, f"2024{m:02d}", value + m) for m in range(1, 4) for e in elements]


def _stored():
    values = DataValue.objects.values_list("period", "element_id", "value", "channel")
    return sorted(values), AuditEntry.objects.count()


@pytest.mark.usefixtures("county", "catalogue")
@pytest.mark.parametrize("staged", [False, True], ids=["rows", "staged"])
@pytest.mark.parametrize(
    ("model", "change"),
    # a new value writes no audit entry (decision 0004): AuditEntry is met by changes only
    [(DataValue, False), (DataValue, True), (AuditEntry, True)],
    ids=["value-new", "value-changed", "audit-changed"],
)
def test_a_field_the_store_does_not_write_is_an_error_and_nothing_is_written(
    model, change, staged, add_field, monkeypatch, carol
):
    if change:
        write_rows(_rows(100), user=carol, channel=Channel.IMPORT)
    before = _stored()
    add_field(model)
    if staged:
        monkeypatch.setattr(generation, "BULK_ROWS", 0)
    with pytest.raises(StatementError, match=rf"{model._meta.label}.*added_in_a_test"):
        write_rows(_rows(500), user=carol, channel=Channel.WEB)
    assert _stored() == before

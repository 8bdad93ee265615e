"""sync_catalogue writes only what differs from packs/core.yaml: an unchanged catalogue is
read, not written (no data-generation change), a changed or missing row is put back."""

from __future__ import annotations

import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xinglin.core import generation
from xinglin.standards.catalogue import CORE_FILE, sync_catalogue, sync_data_elements
from xinglin.standards.models import DataElement, TechniqueCategory, TechniqueItem


def test_an_unchanged_catalogue_is_only_read(db):
    sync_catalogue()
    before = generation.current()
    with CaptureQueriesContext(connection) as queries:
        sync_catalogue()
    assert [q["sql"].split()[0] for q in queries] == ["SELECT"] * 3
    assert generation.current() == before


def test_changed_and_missing_rows_are_put_back(db):
    sync_catalogue()
    DataElement.objects.filter(code="residents").update(name_zh="改过的名字", categories=["x"])
    moxa = TechniqueItem.objects.order_by("code").first()
    moxa_code, moxa_category = moxa.code, moxa.category.code
    moxa.delete()
    TechniqueCategory.objects.filter(code=moxa_category).update(position=99)
    sync_catalogue()
    declared = {
        e["code"]: e for e in yaml.safe_load(CORE_FILE.read_text(encoding="utf-8"))["data_elements"]
    }
    residents = DataElement.objects.get(code="residents")
    assert residents.name_zh == declared["residents"]["name"]["zh"]
    assert residents.categories == list(declared["residents"].get("categories") or [])
    assert TechniqueItem.objects.get(code=moxa_code).category.code == moxa_category
    assert TechniqueCategory.objects.get(code=moxa_category).position != 99


def test_an_edited_file_is_read_again(db, tmp_path):
    """The parsed file is kept by its text: a file with other text is parsed anew."""
    core = yaml.safe_load(CORE_FILE.read_text(encoding="utf-8"))
    sync_data_elements(CORE_FILE)
    core["data_elements"][0]["name"]["zh"] = "新名字"
    edited = tmp_path / "core.yaml"
    edited.write_text(yaml.safe_dump(core, allow_unicode=True), encoding="utf-8")
    sync_data_elements(edited)
    assert DataElement.objects.get(code=core["data_elements"][0]["code"]).name_zh == "新名字"

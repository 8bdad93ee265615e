"""Issue 18.9 (decision 0013): values of an element that declares categories are stored per
category option combination; a combination on an element without categories, an unknown one,
or a total of a categorised element is refused, naming it — never collapsed, never dropped."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from xinglin.collection import audit
from xinglin.collection.actions import save_form_values, write
from xinglin.collection.batch import Candidate, Location
from xinglin.collection.guards import version_of
from xinglin.collection.models import AuditEntry, DataValue
from xinglin.collection.tests.conftest import HMC
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement

pytestmark = pytest.mark.usefixtures("county", "catalogue")
YEAR = "2024"
ELDERLY = "elderly_tcm_managed"


def _write(rows, user=None, **options):
    candidates = [
        Candidate(HMC, YEAR, element, raw, Location(n, "value"))
        for n, (element, raw) in enumerate(rows, 2)
    ]
    return write(candidates, user=user, channel="import", **options)


def _stored() -> dict[tuple[str, str], float]:
    rows = DataValue.objects.filter(orgunit__code=HMC, period=YEAR)
    return {(e, c): v for e, c, v in rows.values_list("element__code", "combo", "value")}


def test_the_catalogue_gives_the_elements_their_categories():
    element = DataElement.objects.get(code=ELDERLY)
    assert element.categories == ["sex"]
    assert [(c.code, c.name) for c in element.combos()] == [("F", "女"), ("M", "男")]
    assert DataElement.objects.get(code="tcm_visits").combos() == []


def test_values_are_stored_and_read_per_combination():
    result = _write([(f"{ELDERLY}.F", "430"), (f"{ELDERLY}.M", "430"), ("beds", "12")])
    assert not result.errors and result.added == 3
    # two values split by sex stay two (issue 18: 430 + 430 was stored as 430)
    assert _stored() == {(ELDERLY, "F"): 430.0, (ELDERLY, "M"): 430.0, ("beds", ""): 12.0}
    again = _write([(f"{ELDERLY}.F", "431"), (f"{ELDERLY}.M", "430")])
    assert (again.added, again.changed, again.unchanged) == (0, 1, 1)
    assert _stored()[(ELDERLY, "F")] == 431.0
    unit, element = OrgUnit.objects.get(code=HMC), DataElement.objects.get(code=ELDERLY)
    assert [
        (e.combo, e.old_value, e.new_value) for e in audit.history(unit, element, YEAR, "F")
    ] == [
        ("F", 430.0, 431.0),
        ("F", None, 430.0),
    ]
    assert [(e.old_value, e.new_value) for e in audit.history(unit, element, YEAR, "M")] == [
        (None, 430.0)
    ]


@pytest.mark.parametrize(
    ("element", "said"),
    [
        ("beds.F", "beds 没有分类：不接受分类选项组合“F”"),
        (f"{ELDERLY}.X", f"“X”不是 {ELDERLY} 的分类选项组合（可选：F（女）、M（男））"),
        (ELDERLY, f"{ELDERLY} 按性别分列上报：请为每个选项组合（F（女）、M（男））各报一个值"),
    ],
)
def test_a_combination_that_does_not_fit_is_refused_by_name(element, said):
    result = _write([(element, "5"), ("beds", "20")])
    assert not result.written  # all or nothing: the good value is not stored either
    assert [(p.location.row, p.location.field) for p in result.errors] == [
        (2, "category_option_combo")
    ]
    assert said in result.errors[0].message
    assert DataValue.objects.count() == 0


def test_deletion_and_comments_are_per_combination():
    _write([(f"{ELDERLY}.F", "10"), (f"{ELDERLY}.M", "20")]).or_raise()
    candidates = [
        Candidate(HMC, YEAR, f"{ELDERLY}.M", "", delete=True),
        Candidate(HMC, YEAR, f"{ELDERLY}.F", "10", comment="核对过"),
    ]
    result = write(candidates, user=None, channel="import")
    assert (result.deleted, result.changed) == (1, 1)
    assert _stored() == {(ELDERLY, "F"): 10.0}
    assert DataValue.objects.get(combo="F").comment == "核对过"
    removed = AuditEntry.objects.get(note="deleted")
    assert (removed.combo, removed.old_value) == ("M", 20.0)


def test_no_lost_update_per_combination(carol, bob):
    _write([(f"{ELDERLY}.F", "10"), (f"{ELDERLY}.M", "20")]).or_raise()
    unit = OrgUnit.objects.get(code=HMC)
    seen = {c: version_of(DataValue.objects.get(combo=c)) for c in ("F", "M")}
    # carol changes 女; bob, who opened the form before, saves 男 (fine) and 女 (refused)
    first = save_form_values(
        unit, YEAR, {f"{ELDERLY}.F": "11"}, user=carol, versions={f"{ELDERLY}.F": seen["F"]}
    )
    assert first[f"{ELDERLY}.F"].saved
    second = save_form_values(
        unit,
        YEAR,
        {f"{ELDERLY}.F": "12", f"{ELDERLY}.M": "21"},
        user=bob,
        versions={f"{ELDERLY}.F": seen["F"], f"{ELDERLY}.M": seen["M"]},
    )
    assert second[f"{ELDERLY}.F"].conflict and not second[f"{ELDERLY}.F"].saved
    assert second[f"{ELDERLY}.M"].saved
    assert _stored() == {(ELDERLY, "F"): 11.0, (ELDERLY, "M"): 21.0}


def test_a_large_write_stores_combinations_through_the_staged_path(settings):
    from xinglin.core import generation

    institutions = OrgUnit.objects.filter(institution_type__in=["township_health_center"])
    rows = [(f"{ELDERLY}.{c}", str(n)) for n, c in enumerate(["F", "M"], 1)]
    old = generation.BULK_ROWS
    generation.BULK_ROWS = 0
    try:
        candidates = [
            Candidate(u.code, YEAR, element, raw) for u in institutions for element, raw in rows
        ]
        result = write(candidates, user=None, channel="import")
        assert result.added == 2 * len(institutions)
        again = write(
            [Candidate(u.code, YEAR, f"{ELDERLY}.F", "5") for u in institutions],
            user=None,
            channel="import",
        )
        assert again.changed == len(institutions)
    finally:
        generation.BULK_ROWS = old
    assert sorted(DataValue.objects.filter(orgunit__code=HMC).values_list("combo", "value")) == [
        ("F", 5.0),
        ("M", 2.0),
    ]
    assert AuditEntry.objects.filter(combo="F", new_value=5.0).count() == len(institutions)


def _export(*options) -> str:
    out = io.StringIO()
    call_command("export", "values", *options, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_export_then_import_changes_nothing(tmp_path, run_import, fmt):
    _write([(f"{ELDERLY}.F", "430"), (f"{ELDERLY}.M", "431"), ("beds", "20")]).or_raise()
    path = tmp_path / f"values.{fmt}"
    _export("--format", fmt, "--output", str(path))
    if fmt == "csv":
        assert f"{HMC},{YEAR},{ELDERLY},431,,M\n" in path.read_text(encoding="utf-8")
    elif fmt == "json":
        entries = json.loads(path.read_text(encoding="utf-8"))["dataValues"]
        assert {"orgUnit": HMC, "period": YEAR, "dataElement": ELDERLY, "value": "430",
                "categoryOptionCombo": "F"} in entries  # fmt: skip
    else:
        rows = list(load_workbook(path).active.values)
        assert rows[0][-1] == "category_option_combo"
        assert (HMC, YEAR, ELDERLY, 431, None, "M") in rows
    before = sorted(DataValue.objects.values_list("element__code", "combo", "value", "updated_at"))
    code, out, _err = run_import(path)
    assert code == 0 and "0 changed, 3 unchanged" in out, out
    after = sorted(DataValue.objects.values_list("element__code", "combo", "value", "updated_at"))
    assert after == before
    DataValue.objects.filter(combo="M").update(value=1)  # a changed value comes back
    code, out, _err = run_import(path)
    assert code == 0 and "1 changed, 2 unchanged" in out, out
    assert _stored()[(ELDERLY, "M")] == 431.0


def test_a_csv_names_the_combination_in_its_own_column(csv_file, run_import):
    path = csv_file([], name="header-only.csv")
    path.write_text(
        "orgunit,period,element,category_option_combo,value\n"
        f"{HMC},{YEAR},{ELDERLY},F,12\n{HMC},{YEAR},{ELDERLY},M,13\n{HMC},{YEAR},beds,F,5\n",
        encoding="utf-8",
    )
    code, _out, err = run_import(path)
    assert code != 0 and "beds 没有分类：不接受分类选项组合“F”" in err
    assert DataValue.objects.count() == 0  # all or nothing
    path.write_text(path.read_text(encoding="utf-8").replace(",beds,F,5", ",beds,,5"))
    code, out, err = run_import(path)
    assert code == 0, err
    assert _stored() == {(ELDERLY, "F"): 12.0, (ELDERLY, "M"): 13.0, ("beds", ""): 5.0}


def test_the_template_has_a_column_per_combination_and_reads_back(tmp_path, run_import):
    from xinglin.collection.forms import expected_orgunits, form_for
    from xinglin.collection.importers.workbook import build_template

    unit = OrgUnit.objects.get(code=HMC)
    form = form_for(unit, YEAR)
    element = DataElement.objects.get(code=ELDERLY)
    values = {(unit.pk, element.pk, "F"): 7.0}
    book = build_template(form, unit, YEAR, [unit], values)
    sheet = book.active
    codes = [c.value for c in sheet[4]]
    headers = [c.value for c in sheet[3]]
    at = codes.index(f"{ELDERLY}.F")
    assert codes[at + 1] == f"{ELDERLY}.M"
    assert headers[at] == "接受中医药健康管理服务的65岁及以上居民数·女（人）"
    row = next(r for r in sheet.iter_rows(min_row=5) if r[0].value == HMC)
    assert row[at].value == 7
    row[at + 1].value = 8
    path = tmp_path / "template.xlsx"
    book.save(path)
    code, out, err = run_import(path)
    assert code == 0, err
    assert _stored() == {(ELDERLY, "F"): 7.0, (ELDERLY, "M"): 8.0}
    assert expected_orgunits  # the form's institutions list the centre (used by the view)


def test_the_form_shows_a_field_per_combination_and_the_total(client_for, carol):
    _write([(f"{ELDERLY}.F", "10"), (f"{ELDERLY}.M", "20")]).or_raise()
    page = client_for(carol).get(f"/collection/{HMC}/{YEAR}/")
    html = page.content.decode()
    assert 'name="elderly_tcm_managed.F"' in html and 'name="elderly_tcm_managed.M"' in html
    assert "接受中医药健康管理服务的65岁及以上居民数（女）" in html
    assert 'id="field-elderly_tcm_managed--F"' in html  # an id a CSS selector can name
    total = html[html.index('id="total-elderly_tcm_managed"') :]
    assert "<output>30 人</output>" in total[:400]
    saved = client_for(carol).post(
        f"/collection/{HMC}/{YEAR}/value/{ELDERLY}.M/", {f"{ELDERLY}.M": "25"}
    )
    assert saved.status_code == 200 and "✓" in saved.content.decode()
    assert _stored()[(ELDERLY, "M")] == 25.0
    history = client_for(carol).get(f"/collection/{HMC}/{YEAR}/history/{ELDERLY}.M/")
    assert history.status_code == 200 and "25" in history.content.decode()


def test_the_review_has_a_row_per_combination():
    from django.utils import timezone

    from xinglin.collection import review
    from xinglin.collection.forms import form_for
    from xinglin.collection.models import Submission

    _write([(f"{ELDERLY}.F", "10"), (f"{ELDERLY}.M", "20")]).or_raise()
    write([Candidate(HMC, "2023", f"{ELDERLY}.F", "8")], user=None, channel="import").or_raise()
    unit = OrgUnit.objects.get(code=HMC)
    submission = Submission.objects.create(
        form="x", orgunit=unit, period=YEAR, status="submitted", submitted_at=timezone.now()
    )
    rows = review.rows(form_for(unit, YEAR), unit, YEAR, submission).rows
    shown = {
        r.element.name: (r.value, r.last_year) for r in rows if r.element.code.startswith(ELDERLY)
    }
    assert shown == {
        "接受中医药健康管理服务的65岁及以上居民数（女）": ("10 人", "8 人"),
        "接受中医药健康管理服务的65岁及以上居民数（男）": ("20 人", "—"),
    }

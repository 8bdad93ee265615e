"""The data generation scoped by year and branch of the tree (decision 0019): a save changes
the generation of every scope that could show the saved value — its county, the city and the
province above, the unit itself, for the value's year — and of no other year or county; a
write to a table that is not per year and unit changes every scope; a rolled-back write
leaves no trace. On SQLite and on PostgreSQL (the suite runs both)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import transaction

from xinglin.collection.testing import store_facts
from xinglin.core import generation
from xinglin.core.generation import Scope
from xinglin.documents import jobs
from xinglin.evaluation import cache, scorecard
from xinglin.evaluation.tests.conftest import visits
from xinglin.network.actions import create_institution, import_divisions, move_orgunit
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement

PACK = "demo-county-2022"


@pytest.fixture
def province(county):
    """盐池县 (吴忠市) of the shared fixture, 利通区 beside it in 吴忠市 and 兴庆区 in 银川市,
    each with a township health centre."""
    import_divisions("640302")
    import_divisions("640104")
    for code, parent in (("640302100001", "640302100"), ("640104001001", "640104001")):
        township = OrgUnit.objects.filter(code__startswith=parent[:6], division_level="township")
        create_institution(code=code, name=f"卫生院{code}", institution_type="township_health_center",
                           parent=township.order_by("code").first())  # fmt: skip
    return {code: OrgUnit.objects.get(code=code).path for code in
            ("64", "6403", "640323", "640323100", "640302", "6401", "640104")}  # fmt: skip


def _tokens(paths: dict[str, str], years: range) -> dict[tuple[str, int], str | None]:
    tokens = {(code, y): generation.current(scope=Scope.of(path, y, y))
              for code, path in paths.items() for y in years}  # fmt: skip
    tokens[("everything", 0)] = generation.current()
    tokens[("all years", 0)] = generation.current(scope=Scope.of(paths["640323"]))
    return tokens


def _changed(before: dict, after: dict) -> set:
    assert None not in before.values() and None not in after.values()
    return {key for key in before if before[key] != after[key]}


def test_a_save_changes_its_year_and_branch_only(write, province):
    years = range(2023, 2027)
    before = _tokens(province, years)
    write(("total_visits", "640323100001", "202611", 120))  # 花马池镇卫生院, November 2026

    changed = _changed(before, _tokens(province, years))
    # every scope that could show the value: the county, its township, the city, the province,
    # the county over all its years, everything
    assert {("640323", 2026), ("640323100", 2026), ("6403", 2026), ("64", 2026),
            ("all years", 0), ("everything", 0)} <= changed  # fmt: skip
    # and none of another year, of the other county of the city, of the other city
    assert not {k for k in changed if k[1] in (2023, 2024, 2025)}
    assert not {k for k in changed if k[0] in ("640302", "6401", "640104")}


def test_a_save_in_another_county_keeps_the_scorecard_and_a_save_in_its_year_changes_it(
    write, province, alice
):
    write(*visits("640323100001", 2024, 100, 30))
    county = OrgUnit.objects.get(code="640323")
    first = scorecard.build(PACK, county, "2024", alice, "zh-hans")
    assert scorecard.build(PACK, county, "2024", alice, "zh-hans").evaluation is first.evaluation

    write(("total_visits", "640302100001", "202406", 500))  # 利通区, the same year
    write(("total_visits", "640323100001", "202611", 500))  # 盐池县, a later year
    kept = scorecard.build(PACK, county, "2024", alice, "zh-hans")
    assert kept.evaluation is first.evaluation  # reused: neither save can show on it

    write(*visits("640323100001", 2024, 100, 1))  # 盐池县 in 2024: the scorecard shows it
    again = scorecard.build(PACK, county, "2024", alice, "zh-hans")
    assert again.evaluation is not first.evaluation
    share = "grassroots.tcm_visit_share"
    assert first.evaluation.result(share, "640323100001").value == 0.3
    assert again.evaluation.result(share, "640323100001").value == 0.01


def test_a_save_changes_the_city_and_province_scorecards_above_it(write, province, alice):
    write(*visits("640323100001", 2024, 100, 30))
    city, region = OrgUnit.objects.get(code="6403"), OrgUnit.objects.get(code="64")
    cards = [scorecard.build(PACK, u, "2024", alice, "zh-hans") for u in (city, region)]
    assert [scorecard.build(PACK, u, "2024", alice, "zh-hans").evaluation
            for u in (city, region)] == [c.evaluation for c in cards]  # fmt: skip
    write(("tcm_visits", "640323100001", "202403", 90))
    for unit, card in zip((city, region), cards, strict=True):
        assert scorecard.build(PACK, unit, "2024", alice, "zh-hans").evaluation is not (
            card.evaluation
        )


def test_documents_keep_their_file_for_a_later_year_and_not_for_their_own(write, province):
    county, city = OrgUnit.objects.get(code="640323"), OrgUnit.objects.get(code="6403")
    keys = {u.code: jobs.cache_key("annual", u, 2025, "pdf") for u in (county, city)}
    write(("total_visits", "640323100001", "202611", 120))  # 2026: not in a 2025 summary
    write(("total_visits", "640104001001", "202506", 120))  # 2025 in 银川市
    assert {u.code: jobs.cache_key("annual", u, 2025, "pdf") for u in (county, city)} == keys
    write(("total_visits", "640323100001", "202312", 120))  # an earlier year it looks back on
    after = {u.code: jobs.cache_key("annual", u, 2025, "pdf") for u in (county, city)}
    assert after["640323"] != keys["640323"] and after["6403"] != keys["6403"]


def test_the_dashboard_sections_are_kept_for_another_year_and_recomputed_for_theirs(
    write, province, alice, client_for
):
    client = client_for(alice)
    page = "/?orgunit=640323&year=2025"
    board = client.get(page).context["board"]
    write(("total_visits", "640323100001", "202611", 120))
    assert client.get(page).context["board"]["verdicts"] is board["verdicts"]
    write(("total_visits", "640323100001", "202502", 120))
    assert client.get(page).context["board"]["verdicts"] is not board["verdicts"]


def test_a_write_to_a_table_not_per_year_and_unit_changes_every_scope(province):
    before = _tokens(province, range(2025, 2026))
    OrgUnit.objects.filter(code="640104").update(name="兴庆区（改）")
    assert _changed(before, _tokens(province, range(2025, 2026))) == set(before)
    before = _tokens(province, range(2025, 2026))
    DataElement.objects.filter(code="total_visits").update(name_zh="总诊疗人次")
    assert _changed(before, _tokens(province, range(2025, 2026))) == set(before)


def test_a_rolled_back_save_leaves_no_trace(write, province):
    years = range(2025, 2027)
    before = _tokens(province, years)
    with pytest.raises(RuntimeError), transaction.atomic():
        write(("total_visits", "640323100001", "202611", 120))
        inside = _tokens(province, years)  # the writer sees its own write
        assert ("640323", 2026) in _changed(before, inside)
        raise RuntimeError("stop")
    assert _tokens(province, years) == before


def test_a_moved_units_value_changes_the_county_it_stood_in_that_year(write, province):
    clinic = OrgUnit.objects.get(code="640323100101")
    store_facts([(DataElement.objects.get(code="total_visits"), clinic, "202403", 10.0)])
    move_orgunit(clinic, OrgUnit.objects.get(code="640302100001").parent, on=date(2025, 1, 1))
    before = _tokens(province, range(2024, 2025))
    write(("total_visits", "640323100101", "202404", 20))  # 2024: it stood in 盐池县
    changed = _changed(before, _tokens(province, range(2024, 2025)))
    assert {("640323", 2024), ("640302", 2024), ("6403", 2024)} <= changed
    assert ("640104", 2024) not in changed


def test_a_value_computed_while_its_scope_changed_is_not_kept(write, province):
    scope = Scope.of(province["640323"], 2026, 2026)
    calls = []

    def compute():
        calls.append(1)
        write(("total_visits", "640323100001", f"2026{len(calls):02d}", 1))  # a write meanwhile
        return len(calls)

    assert cache.cached(("test-scope",), compute, scope=scope) == 1
    assert cache.cached(("test-scope",), compute, scope=scope) == 2  # not kept: recomputed


@pytest.mark.django_db(transaction=True)
def test_old_change_rows_are_folded_or_pruned_without_a_scope_returning_to_an_old_generation(
    province, monkeypatch
):
    """PostgreSQL keeps a row per writing transaction and key, folded into the newest of its
    key (no scope's generation moves); SQLite a row per key, and empties the table when it has
    grown (every scope's generation moves once, none back to an earlier one)."""
    from django.db import connection  # noqa: PLC0415 — beside the vendor test it serves

    element = DataElement.objects.get_or_create(
        code="total_visits", defaults={"name_zh": "总诊疗人次", "value_type": "number"}
    )[0]
    units = {c: OrgUnit.objects.get(code=c) for c in ("640323100001", "640302100001")}
    if connection.vendor == "sqlite":
        monkeypatch.setattr(generation, "PRUNE_ABOVE", 6)
        generation.uninstall()
        generation.install()
    seen: dict[tuple, list] = {}
    for month in range(1, 11):  # ten transactions, each a save in each county
        for unit in units.values():
            store_facts([(element, unit, f"2026{month:02d}", float(month))])
            for key, token in _tokens(province, range(2025, 2027)).items():
                seen.setdefault(key, []).append(token)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {generation.TABLE}")
        rows = cursor.fetchone()[0]
        before = _tokens(province, range(2025, 2027))
        if connection.vendor == "postgresql":
            assert rows >= 20  # a row per transaction and key
            generation._fold(cursor)
            cursor.execute(f"SELECT COUNT(*) FROM {generation.TABLE}")
            assert cursor.fetchone()[0] < rows
            assert _tokens(province, range(2025, 2027)) == before
            assert all(len(set(seen[(c, 2025)])) == 1 for c in province)  # never moved
        else:
            assert rows <= 8  # emptied as it grew
    for key, tokens in seen.items():  # a generation once left never comes back
        runs = [t for i, t in enumerate(tokens) if i == 0 or tokens[i - 1] != t]
        assert len(runs) == len(set(runs)), key
    # 盐池县's 2026 moved with each of its saves
    assert len(set(seen[("640323", 2026)])) >= 10
    if connection.vendor == "sqlite":  # the next tests' triggers prune at the usual size
        monkeypatch.undo()
        generation.uninstall()
        generation.install()

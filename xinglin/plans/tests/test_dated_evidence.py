"""Dated evidence (issue 17.2): an evidence item is met in a year only by accepted evidence
covering that year; the evidence page and the scorecard say the same for the same year."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from xinglin.evaluation.engine import evaluate
from xinglin.plans.actions import (
    PlanError,
    evidence_status,
    review_evidence,
    upload_evidence,
    withdraw_evidence,
)
from xinglin.plans.indicators import evidence_items, find_indicator
from xinglin.plans.models import Evidence
from xinglin.plans.tests.conftest import pdf_bytes
from xinglin.standards.loader import PackError, evidence_kind, load_pack, read_elements

PACK = "demo-county-2022"
ANNUAL = "organisation.complaint_platform"  # 本年度受理、核实和办结记录
STANDING = "organisation.development_plan"  # the current development plan


def _accepted(county, alice, indicator, period, pack=PACK):
    evidence = upload_evidence(
        orgunit=county,
        pack=pack,
        indicator=indicator,
        name="records.pdf",
        content=pdf_bytes(),
        user=alice,
        period=period,
    )
    return review_evidence(evidence, user=alice, accept=True)


def _engine(indicator: str, year: int) -> str:
    evaluation = evaluate(PACK, "640323", str(year))
    return next(r.status for r in evaluation.at("640323") if r.indicator == indicator)


def test_what_an_item_needs_follows_its_wording_unless_declared():
    assert find_indicator(PACK, ANNUAL).evidence_kind == "annual"
    assert find_indicator(PACK, STANDING).evidence_kind == "standing"
    assert evidence_kind({"evidence": {"zh": "每年的培训记录"}}) == "annual"
    assert evidence_kind({"evidence": {"zh": "本年度记录"}, "evidence_kind": "standing"}) == (
        "standing"
    )
    with pytest.raises(ValueError, match="evidence_kind 'monthly'"):
        evidence_kind({"evidence_kind": "monthly"})


def test_the_loader_refuses_an_unknown_evidence_kind(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(
        "pack: p\ntitle: {zh: 测试}\nsource: x\nindicators:\n"
        "  - {id: a.b, name: {zh: 项目}, source: x, kind: evidence, evidence_kind: sometimes,"
        " judged_at: [county]}\n",
        encoding="utf-8",
    )
    with pytest.raises(PackError, match="p.yaml: indicator a.b: evidence_kind 'sometimes'"):
        load_pack(path, read_elements())


def test_year_records_meet_only_their_year_on_the_engine_too(county, alice):
    _accepted(county, alice, ANNUAL, (date(2024, 1, 1), date(2024, 12, 31)))
    judged = {y: evidence_status(county, PACK, ANNUAL, year=y) for y in (2023, 2024, 2025)}
    assert judged == {2023: "awaiting_evidence", 2024: "met", 2025: "awaiting_evidence"}
    assert {y: _engine(ANNUAL, y) for y in judged} == judged
    assert evidence_status(county, PACK, ANNUAL) == "met"  # no year: any evidence


def test_a_standing_document_counts_from_its_date_until_withdrawn(county, alice):
    plan = _accepted(county, alice, STANDING, (date(2024, 8, 19), None))
    assert [evidence_status(county, PACK, STANDING, year=y) for y in (2023, 2024, 2026)] == [
        "awaiting_evidence",
        "met",
        "met",
    ]
    withdraw_evidence(plan, user=alice, on=date(2025, 3, 31), reason="规划已修订")
    assert [evidence_status(county, PACK, STANDING, year=y) for y in (2025, 2026)] == [
        "met",
        "awaiting_evidence",
    ]
    with pytest.raises(PlanError):
        withdraw_evidence(plan, user=alice, on=date(2024, 1, 1), reason="x")


def test_a_new_standing_document_replaces_the_old_one(county, alice):
    old = _accepted(county, alice, STANDING, (date(2021, 5, 1), None))
    new = _accepted(county, alice, STANDING, (date(2024, 2, 1), None))
    old.refresh_from_db()
    assert (old.period_end, new.period_end) == (date(2024, 1, 31), None)
    assert evidence_status(county, PACK, STANDING, year=2026) == "met"


def test_rejected_records_of_another_year_do_not_fail_this_year(county, alice):
    evidence = upload_evidence(
        orgunit=county,
        pack=PACK,
        indicator=ANNUAL,
        name="r.pdf",
        content=pdf_bytes(),
        user=alice,
        period=(date(2023, 1, 1), date(2023, 12, 31)),
    )
    review_evidence(evidence, user=alice, accept=False, comment="不完整")
    assert evidence_status(county, PACK, ANNUAL, year=2023) == "not_met"
    assert evidence_status(county, PACK, ANNUAL, year=2024) == "awaiting_evidence"


def test_year_records_cannot_be_open_ended_and_periods_run_forwards(county, alice):
    common = {"orgunit": county, "pack": PACK, "name": "a.pdf", "content": pdf_bytes()}
    with pytest.raises(PlanError):
        upload_evidence(**common, user=alice, indicator=ANNUAL, period=(date(2024, 1, 1), None))
    with pytest.raises(PlanError):
        upload_evidence(
            **common, user=alice, indicator=STANDING, period=(date(2024, 1, 1), date(2023, 1, 1))
        )
    assert not Evidence.objects.exists()


def test_default_period_is_this_year_or_from_today(county, alice):
    common = {"orgunit": county, "pack": PACK, "name": "a.pdf", "content": pdf_bytes()}
    today = timezone.localdate()
    records = upload_evidence(**common, user=alice, indicator=ANNUAL)
    document = upload_evidence(**common, user=alice, indicator=STANDING)
    assert (records.period_start, records.period_end) == (
        date(today.year, 1, 1),
        date(today.year, 12, 31),
    )
    assert (document.period_start, document.period_end) == (today, None)


def test_task_evidence_covers_the_year_for_the_linked_item(county, alice):
    from xinglin.plans.actions import load_departments, load_plan
    from xinglin.plans.packs import PACKS_DIR, read_packs

    load_departments()
    pack = next(p for p in read_packs(PACKS_DIR) if p.code == PACK)
    task = load_plan(pack, county).plan.tasks.get(indicator_links__indicator=ANNUAL)
    evidence = upload_evidence(
        orgunit=county,
        task=task,
        name="总结.pdf",
        content=pdf_bytes(),
        user=alice,
        period=(date(2024, 1, 1), date(2024, 12, 31)),
    )
    review_evidence(evidence, user=alice, accept=True)
    status = {y: evidence_status(county, PACK, ANNUAL, year=y) for y in (2024, 2025)}
    assert status == {2024: "met", 2025: "awaiting_evidence"}
    assert "2024" in task.updates.get(kind="evidence").text


def test_the_upload_page_asks_for_the_year_and_stores_it(county, alice, client_for):
    client = client_for(alice)
    page = client.get(reverse("plans:items", args=["640323", PACK]) + "?year=2024")
    row = next(r for r in page.context["rows"] if r[0].id == ANNUAL)
    assert set(row[4].fields) == {"file", "description", "year"}
    assert row[4].fields["year"].initial == 2024
    client.post(
        reverse("plans:item_upload", args=["640323", PACK, ANNUAL]),
        {"file": SimpleUploadedFile("记录.pdf", pdf_bytes()), "year": "2023"},
    )
    evidence = Evidence.objects.get()
    assert (evidence.period_start, evidence.period_end) == (date(2023, 1, 1), date(2023, 12, 31))
    page = client.get(reverse("plans:items", args=["640323", PACK]) + "?year=2023")
    assert "2023年度" in page.content.decode()


def test_evidence_page_and_scorecard_agree_year_by_year(county, alice, client_for):
    _accepted(county, alice, ANNUAL, (date(2024, 1, 1), date(2024, 12, 31)))
    _accepted(county, alice, STANDING, (date(2024, 8, 19), None))
    rejected = upload_evidence(
        orgunit=county,
        pack=PACK,
        indicator="development.funding",
        name="budget.pdf",
        content=pdf_bytes(),
        user=alice,
        period=(date(2025, 1, 1), date(2025, 12, 31)),
    )
    review_evidence(rejected, user=alice, accept=False, comment="缺少拨付凭证")
    client = client_for(alice)
    for year in (2023, 2024, 2025):
        page = client.get(reverse("plans:items", args=["640323", PACK]) + f"?year={year}")
        on_page = {row[0].id: row[1] for row in page.context["rows"]}
        card = client.get(reverse("evaluation:scorecard") + f"?pack={PACK}&period={year}")
        on_card = {
            row.result.indicator: row.result.status
            for row in card.context["card"].rows
            if row.result.kind == "evidence"
        }
        assert on_page == on_card, year
        assert set(on_page) == {i.id for i in evidence_items(PACK)}
    assert (on_page[ANNUAL], on_page[STANDING], on_page["development.funding"]) == (
        "awaiting_evidence",
        "met",
        "not_met",
    )
    assert "未达标" in page.content.decode()  # the status in words, not only a colour
    link = reverse("plans:items", args=["640323", PACK]) + f"?year=2025#item-{ANNUAL}"
    assert link in card.content.decode()  # the scorecard leads to the same year's evidence


def test_task_evidence_shows_on_the_item_page(county, alice, client_for):
    """The page once said 尚无佐证材料 while the scorecard said met: evidence attached to a
    task linked to the item is listed with the item."""
    from xinglin.plans.actions import load_departments, load_plan
    from xinglin.plans.packs import PACKS_DIR, read_packs

    load_departments()
    pack = next(p for p in read_packs(PACKS_DIR) if p.code == PACK)
    task = load_plan(pack, county).plan.tasks.get(indicator_links__indicator=STANDING)
    evidence = upload_evidence(
        orgunit=county, task=task, name="方案.pdf", content=pdf_bytes(), user=alice
    )
    review_evidence(evidence, user=alice, accept=True)
    year = timezone.localdate().year
    url = reverse("plans:items", args=["640323", PACK]) + f"?year={year}"
    row = next(r for r in client_for(alice).get(url).context["rows"] if r[0].id == STANDING)
    assert row[1] == "met" and [e.pk for e in row[2]] == [evidence.pk]


def test_migration_dates_existing_evidence_by_the_year_of_its_date(county, alice):
    from importlib import import_module

    migration = import_module("xinglin.plans.migrations.0002_evidence_period_covered")
    uploaded = timezone.make_aware(datetime(2024, 8, 19, 10, 0))
    for indicator in (ANNUAL, STANDING):
        evidence = upload_evidence(
            orgunit=county, pack=PACK, indicator=indicator, name="a.pdf", content=pdf_bytes(),
            user=alice,
        )  # fmt: skip
        Evidence.objects.filter(pk=evidence.pk).update(
            uploaded_at=uploaded, period_start=date(1999, 1, 1), period_end=None
        )
    migration.date_existing_evidence(apps, None)
    periods = {e.indicator: (e.period_start, e.period_end) for e in Evidence.objects.all()}
    assert periods == {
        ANNUAL: (date(2024, 1, 1), date(2024, 12, 31)),
        STANDING: (date(2024, 8, 19), None),
    }


def test_an_administrator_withdraws_a_standing_document_on_the_page(county, alice, client_for):
    document = _accepted(county, alice, STANDING, (date(2023, 5, 1), None))
    client = client_for(alice)
    page = client.get(reverse("plans:items", args=["640323", PACK]) + "?year=2024").text
    assert reverse("plans:evidence_withdraw", args=[document.pk]) in page
    client.post(
        reverse("plans:evidence_withdraw", args=[document.pk]),
        {"on": "2024-06-30", "reason": "规划已废止"},
    )
    document.refresh_from_db()
    assert document.period_end == date(2024, 6, 30)
    assert evidence_status(county, PACK, STANDING, year=2025) == "awaiting_evidence"
    assert (
        "自2023-05-01起有效"
        not in client.get(reverse("plans:items", args=["640323", PACK]) + "?year=2024").text
    )  # now shown with its end: 2023-05-01至2024-06-30


def test_a_viewer_cannot_withdraw(county, alice, victor, client_for):
    document = _accepted(county, alice, STANDING, (date(2023, 5, 1), None))
    response = client_for(victor).post(
        reverse("plans:evidence_withdraw", args=[document.pk]), {"on": "2024-06-30", "reason": "x"}
    )
    assert response.status_code == 403
    document.refresh_from_db()
    assert document.period_end is None


def test_the_reviewer_corrects_the_year_covered_and_it_is_recorded(county, alice, client_for):
    from xinglin.core.models import SecurityEvent

    evidence = upload_evidence(
        orgunit=county,
        pack=PACK,
        indicator=ANNUAL,
        name="r.pdf",
        content=pdf_bytes(),
        user=alice,
        period=(date(2025, 1, 1), date(2025, 12, 31)),
    )
    client_for(alice).post(
        reverse("plans:evidence_review", args=[evidence.pk]), {"decision": "accept", "year": "2024"}
    )
    evidence.refresh_from_db()
    assert (evidence.status, evidence.period_start, evidence.period_end) == (
        "accepted",
        date(2024, 1, 1),
        date(2024, 12, 31),
    )
    assert [evidence_status(county, PACK, ANNUAL, year=y) for y in (2024, 2025)] == [
        "met",
        "awaiting_evidence",
    ]
    detail = SecurityEvent.objects.get(kind="evidence_decision").detail
    assert "2024" in detail and "(was " in detail


def test_the_annual_summary_lists_the_evidence_covering_its_year(county, alice):
    from xinglin.documents import progress

    _accepted(county, alice, ANNUAL, (date(2024, 1, 1), date(2024, 12, 31)))
    assert list(progress.evidence(county, 2024)) == [ANNUAL]
    assert progress.evidence(county, 2025) == {}

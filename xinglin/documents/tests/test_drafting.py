"""The drafted narrative (issue 26): figures equal the engine's, edits survive regeneration,
stale sentences are marked, the five annual sections are written for a county with a plan in
progress, and the documents print the officer's edited text."""

from __future__ import annotations

import io
import re
from datetime import date, datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from docx import Document

from xinglin.collection.actions import write_rows
from xinglin.documents.actions import edit_paragraphs, keep_draft, render_document
from xinglin.documents.drafting import templates
from xinglin.documents.drafting.draft import draft, suggest_cases
from xinglin.documents.gather import gather
from xinglin.documents.models import DraftParagraph, ReportKind
from xinglin.documents.narrative import sections
from xinglin.evaluation.engine import evaluate
from xinglin.plans.actions import (
    create_rectification,
    load_departments,
    load_plan,
    review_evidence,
    update_task_status,
    upload_evidence,
)
from xinglin.plans.models import Department, Evidence, Plan, Task
from xinglin.plans.packs import PACKS_DIR, read_packs
from xinglin.plans.tests.conftest import pdf_bytes
from xinglin.standards.models import DataElement

YEAR = 2025
ANNUAL_SECTIONS = ["work_done", "achievements", "problems", "next_steps", "mechanisms"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture
def county_at_work(figures_county, alice):
    """figures_county with the rehab plan (seeds/000) under way: two tasks done in 2025, one
    evidence item accepted, a rectification opened for the TCM-visit share."""
    load_departments()
    pack = next(p for p in read_packs(PACKS_DIR) if p.code == "rehab-2021-2025")
    plan = load_plan(pack, figures_county).plan
    tasks = list(Task.objects.filter(plan=plan).order_by("position"))
    update_task_status(tasks[0], "done", user=alice, on=date(YEAR, 3, 15))
    update_task_status(tasks[-1], "done", user=alice, on=date(YEAR, 6, 30))
    evidence = upload_evidence(orgunit=figures_county, name="康复工作方案.pdf",
                               content=pdf_bytes(), user=alice, pack="rehab-2021-2025",
                               indicator="rehab.plan_issued",
                               period=(date(YEAR, 2, 1), None))  # a standing document  # fmt: skip
    review_evidence(evidence, user=alice, accept=True)
    # reviewed in the year being summarised
    Evidence.objects.filter(pk=evidence.pk).update(
        reviewed_at=timezone.make_aware(datetime(YEAR, 9, 1))
    )
    create_rectification(orgunit=figures_county, pack="demo-county-2022",
                         indicator="grassroots.tcm_visit_share",
                         owner=Department.objects.get(code="health_commission"),
                         measure="组织大水坑镇卫生院开展中医适宜技术培训", deadline=date(YEAR + 1, 6, 30),
                         user=alice)  # fmt: skip
    return figures_county


def percent(value: float) -> str:
    """An independent rendering of a fraction as the bureau prints it."""
    return f"{value * 100:.1f}%"


def shown(result) -> str:
    if result.unit == "percent":
        return percent(result.value)
    return f"{result.value:.0f}" if float(result.value).is_integer() else f"{result.value:.2f}"


def test_each_drafted_figure_is_the_evaluations(county_at_work):
    """Every figure a sentence cites is the engine's (its state is the engine's value and
    status), and where the sentence prints it, it prints the engine's value: after the
    indicator's name for the county, after the institution's name for an institution, and
    the change from last year as the difference of the two printed values."""
    data = gather(ReportKind.ANNUAL, county_at_work, YEAR)
    printed = changes = 0
    for paragraph in draft(data):
        for sentence in paragraph.sentences:
            for source in sentence.sources:
                if source.kind != "figure":
                    continue
                pack, indicator, unit, period = source.ref.split("/")
                result = evaluate(pack, "640323", period).result(indicator, unit)
                assert source.state.startswith(f"{result.value}|{result.status}|")
                text = sentence.text
                if result.value is None or period != str(YEAR):
                    continue
                if unit == "640323" and text.startswith(result.name):
                    assert text.startswith((f"{result.name}为{shown(result)}",
                                            f"{result.name}达{shown(result)}")), text  # fmt: skip
                    printed += 1
                    before = evaluate(pack, "640323", str(YEAR - 1)).result(indicator, unit)
                    if "较上年" in text and before.value is not None:
                        if result.unit == "percent":
                            diff = round(result.value * 100, 1) - round(before.value * 100, 1)
                            amount = f"{abs(diff):.1f}个百分点"
                        else:
                            amount = f"{abs(result.value - before.value):.0f}"
                        assert f"较上年{'提高' if diff > 0 else '下降'}{amount}" in text if (
                            result.unit == "percent") else f"{amount}，" in text  # fmt: skip
                        changes += 1
                elif unit != "640323" and f"{result.orgunit_name}（{shown(result)}）" in text:
                    printed += 1
    assert printed > 10 and changes >= 1


def test_key_sentences_read_as_the_document_writes_them(county_at_work):
    data = gather(ReportKind.ANNUAL, county_at_work, YEAR)
    text = "".join(p.text for p in draft(data))
    beds = evaluate("rehab-2021-2025", "640323", "2025").result(
        "rehab.tcm_hospital_rehab_beds", "640323"
    )
    before = evaluate("rehab-2021-2025", "640323", "2024").result(
        "rehab.tcm_hospital_rehab_beds", "640323"
    )
    assert (beds.value, before.value) == (42.0, 36.0)  # conftest REHAB_BEDS
    assert f"{beds.name}为42，较上年增加6，超过40的目标。" in text
    share = evaluate("demo-county-2022", "640323", "2025").result(
        "grassroots.tcm_visit_share", "640323"
    )
    assert share.value == pytest.approx(0.31)  # (480 + 264) / 2400
    # 35% target less 31.0%: the gap in 百分点, and the institution holding it back with its own
    # figure: 大水坑镇卫生院 reported 22 TCM visits in 100 each month of 2025
    assert (
        f"{share.name}为31.0%，距35%的目标还差4.0个百分点，主要是大水坑镇卫生院（22.0%）未达标。"
        in (text)
    )
    # the reason in words, not element codes
    assert "大水坑镇卫生院（设有标准化中医馆 否）" in text
    assert "has_tcm_hall" not in text and "not_met" not in text


def test_no_english_word_in_the_chinese_draft(county_at_work):
    for kind in ReportKind.values:
        for paragraph in draft(gather(kind, county_at_work, YEAR)):
            assert not re.search(r"[A-Za-z]{2,}", paragraph.text), paragraph.text


def test_the_english_templates_have_every_chinese_key():
    def keys(node, prefix=""):
        if not isinstance(node, dict):
            return {prefix}
        return set().union(*(keys(v, f"{prefix}.{k}") for k, v in node.items()))

    for name in ("annual", "evaluation"):
        zh = keys(templates._load(name, "zh"))
        en = keys(templates._load(name, "en"))
        assert zh - {".language"} == en - {".language"}


def test_the_five_annual_sections_are_written_for_a_county_at_work(county_at_work):
    data = gather(ReportKind.ANNUAL, county_at_work, YEAR)
    by_section: dict[str, list] = {}
    for paragraph in draft(data):
        by_section.setdefault(paragraph.section, []).append(paragraph)
    assert list(by_section) == ANNUAL_SECTIONS
    for section in ANNUAL_SECTIONS:  # each says something from the data, not the fallback
        assert all(not p.key.endswith("/none") for p in by_section[section]), section
    work = "".join(p.text for p in by_section["work_done"])
    first = Task.objects.filter(plan__pack="rehab-2021-2025").order_by("position").first()
    assert f"{first.title_zh}（2025年3月15日完成，" in work
    assert "年内审核通过佐证材料1份" in work
    assert "已完成2项" in work
    assert "（佐证材料：康复工作方案）" in "".join(p.text for p in by_section["mechanisms"])
    steps = "".join(p.text for p in by_section["next_steps"])
    assert (
        "组织大水坑镇卫生院开展中医适宜技术培训，由卫生健康行政部门负责，2026年6月30日前完成。"
        in steps
    )
    sources = {s.kind for p in draft(data) for s in p.sources}
    assert {"figure", "task", "evidence", "rectification"} <= sources


def test_an_edit_survives_regeneration_of_other_paragraphs(county_at_work, alice):
    keep_draft(county_at_work, YEAR, ReportKind.ANNUAL, user=alice)
    rows = DraftParagraph.objects.filter(orgunit=county_at_work, year=YEAR, kind="annual")
    edited, other = rows.get(key="achievements/pack:rehab-2021-2025"), rows.get(key="problems/data")
    edit_paragraphs(
        county_at_work, YEAR, "annual", {edited.key: "康复病床建设成效明显。"}, user=alice
    )
    DraftParagraph.objects.filter(pk=other.pk).update(text="旧文本")
    keep_draft(county_at_work, YEAR, "annual", user=alice, keys=[other.key])
    keep_draft(county_at_work, YEAR, "annual", user=alice)  # the whole draft again
    edited.refresh_from_db()
    other.refresh_from_db()
    assert (edited.text, edited.edited) == ("康复病床建设成效明显。", True)
    assert other.text == other.drafted_text != "旧文本"
    # regenerating the edited paragraph itself needs the officer's explicit say-so
    result = keep_draft(county_at_work, YEAR, "annual", keys=[edited.key])
    edited.refresh_from_db()
    assert result.kept == 1 and edited.text == "康复病床建设成效明显。"
    keep_draft(county_at_work, YEAR, "annual", keys=[edited.key], overwrite_edited=True)
    edited.refresh_from_db()
    assert not edited.edited and "42" in edited.text


def test_a_figure_changed_after_drafting_marks_its_paragraph_stale(county_at_work, alice):
    keep_draft(county_at_work, YEAR, ReportKind.ANNUAL, user=alice)
    shown = sections(gather(ReportKind.ANNUAL, county_at_work, YEAR))
    assert not any(p.stale for s in shown.values() for p in s.paragraphs)
    beds = DataElement.objects.get(code="rehab_beds")
    write_rows([(beds, _hospital(), str(YEAR), 44.0)])
    shown = sections(gather(ReportKind.ANNUAL, county_at_work, YEAR))
    stale = {p.key for s in shown.values() for p in s.paragraphs if p.stale}
    assert "achievements/pack:rehab-2021-2025" in stale
    assert "work_done/evidence" not in stale
    paragraph = next(p for p in shown["achievements"].paragraphs if p.key in stale)
    assert "42" in paragraph.text and "44" in paragraph.live_text
    # the sentence that cites the changed figure is marked, not its neighbours
    marked = [s["text"] for s in paragraph.sentences if s["stale"]]
    assert any("康复病床数为42" in text for text in marked)
    for section in shown.values():
        for kept in section.paragraphs:
            for sentence in kept.sentences if kept.stale else []:
                cites_beds = any(
                    x["ref"].startswith("rehab-2021-2025/rehab.tcm_hospital_rehab_beds/")
                    and x["ref"].endswith(f"/{YEAR}") for x in sentence["sources"]
                )  # fmt: skip
                assert sentence["stale"] == cites_beds, sentence["text"]


def _hospital():
    from xinglin.network.models import OrgUnit

    return OrgUnit.objects.get(code="640323000001")


def test_the_documents_print_the_edited_text(county_at_work, alice):
    keep_draft(county_at_work, YEAR, ReportKind.ANNUAL, user=alice)
    row = DraftParagraph.objects.get(orgunit=county_at_work, kind="annual", key="problems/data")
    edit_paragraphs(county_at_work, YEAR, "annual", {row.key: "数据报送仍需加强。"}, user=alice)
    document = Document(io.BytesIO(render_document("annual", county_at_work, YEAR, "docx")))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "数据报送仍需加强。" in text
    assert row.drafted_text not in text
    assert "康复病床数为42" in text  # the other paragraphs, as drafted


def test_typical_cases_are_suggested_from_the_largest_improvement(county_at_work):
    data = gather(ReportKind.FINAL, county_at_work, YEAR)
    suggestions = suggest_cases(data)
    # 大水坑镇卫生院: 20 → 22 TCM visits in 100 from 2023 to 2025; 花马池镇卫生院 stayed at 40
    assert suggestions[0]["institution"] == "大水坑镇卫生院"
    assert "由2023年的20.0%提高至2025年的22.0%，提高2.0个百分点。" in suggestions[0]["body"]
    assert "（请补充" in suggestions[0]["body"]  # for the officer to complete
    assert all(s["institution"] != "花马池镇卫生院" for s in suggestions)


def test_the_evaluations_say_the_whole_periods_trend(county_at_work):
    data = gather(ReportKind.FINAL, county_at_work, YEAR)
    overview = "".join(p.text for p in draft(data) if p.section == "overview")
    assert "2023年以来" in overview
    plan = Plan.objects.get(pack="rehab-2021-2025")
    start = f"{plan.start.year}年{plan.start.month}月{plan.start.day}日"
    assert f"《{plan.title_zh}》自{start}实施以来，盐池县按方案部署任务" in overview
    assert "康复病床数由2023年的30增加至2025年的42，增加12。" in overview


def test_a_data_error_figure_is_a_data_gap(county_at_work):
    # The engine gains a data_error status in another branch; a figure carrying it is said to
    # need checking, not judged.
    data = gather(ReportKind.ANNUAL, county_at_work, YEAR)
    figure = next(f for p in data.packs for f in p.own if f["status"] == "not_met")
    figure["status"] = "data_error"
    text = "".join(p.text for p in draft(data) if p.section == "problems")
    assert f"{figure['name']}的数据存在错误" in text


def test_the_editor_shows_sources_and_keeps_an_edit(client_for, alice, county_at_work):
    client = client_for(alice)
    url = reverse("documents:report", args=["640323", YEAR, "annual"])
    page = client.get(url).content.decode()
    assert "《盐池县中医药康复服务能力提升工程实施方案（2021-2025年）》县中医医院康复病床数" in page
    assert reverse("evaluation:data") + "?orgunit=640323&amp;pack=rehab-2021-2025" in page
    key = "achievements/pack:rehab-2021-2025"
    response = client.post(url, {"action": "save", f"paragraph:{key}": "我们的文字。"})
    assert response.status_code == 302
    row = DraftParagraph.objects.get(key=key, kind="annual")
    assert (row.text, row.edited, row.updated_by) == ("我们的文字。", True, alice)
    # regenerating it without ticking "replace my edits" keeps it
    client.post(url, {"action": "regenerate", "regenerate": [key]})
    row.refresh_from_db()
    assert row.text == "我们的文字。"
    client.post(url, {"action": "regenerate", "regenerate": [key], "overwrite_edited": "1"})
    row.refresh_from_db()
    assert row.text == row.drafted_text and not row.edited


def test_a_city_summary_speaks_of_its_counties(county_at_work):
    from xinglin.network.models import OrgUnit

    city = OrgUnit.objects.get(code="6403")
    data = gather(ReportKind.ANNUAL, city, YEAR)
    text = "".join(p.text for p in draft(data) if p.section == "achievements")
    assert "从各县（区）看" in text and "盐池县达标" in text


def test_a_figure_short_before_its_deadline_is_at_risk(county_at_work):
    data = gather(ReportKind.ANNUAL, county_at_work, YEAR - 1)
    text = "".join(p.text for p in draft(data) if p.section == "problems")
    evaluation = evaluate("capacity-2021-2025", "640323", str(YEAR - 1))
    early = [r for r in evaluation.at("640323") if not r.due and r.status == "not_met"]
    assert early  # capacity-2021-2025 targets fall due in 2025
    for result in early:
        assert f"{result.name}为{shown(result)}，尚未达到2025年" in text
    assert "按期完成存在风险" in text


def test_an_edit_made_meanwhile_is_not_overwritten(client_for, alice, bob, county_at_work):
    keep_draft(county_at_work, YEAR, ReportKind.ANNUAL)
    key = "problems/data"
    row = DraftParagraph.objects.get(orgunit=county_at_work, kind="annual", key=key)
    shown_to_both = row.text
    edit_paragraphs(county_at_work, YEAR, "annual", {key: "甲的修改。"}, user=alice,
                    originals={key: shown_to_both})  # fmt: skip
    result = edit_paragraphs(county_at_work, YEAR, "annual", {key: "乙的修改。"}, user=bob,
                             originals={key: shown_to_both})  # fmt: skip
    row.refresh_from_db()
    assert (row.text, result.conflicts) == ("甲的修改。", [key])


def test_the_draft_can_be_written_in_english(county_at_work):
    """An English document is made in English: the figures gathered with their English names
    (as for a user reading in English), the prose from the English templates."""
    from django.utils import translation

    with translation.override("en"):
        for kind in ReportKind.values:
            paragraphs = draft(gather(kind, county_at_work, YEAR), language="en")
            assert paragraphs and all(p.text for p in paragraphs)
        annual = draft(gather("annual", county_at_work, YEAR), language="en")
    text = "".join(p.text for p in annual)
    assert "percentage points short of the 35% target" in text
    assert "up 6 from last year, above the 40 target" in text
    assert "个百分点" not in text and "较上年" not in text


def test_the_final_evaluation_page_suggests_a_case_to_complete(client_for, alice, county_at_work):
    from xinglin.documents.models import TypicalCase

    client = client_for(alice)
    page = client.get(reverse("documents:report", args=["640323", YEAR, "final"])).content.decode()
    suggestion = suggest_cases(gather(ReportKind.FINAL, county_at_work, YEAR))[0]
    assert f'value="{escape(suggestion["title"])}"' in page
    assert "（请补充主要做法、经验和成效。）" in page
    client.post(reverse("documents:add_case", args=["640323", YEAR]),
                {"title": suggestion["title"], "body": suggestion["body"] + "完善做法。",
                 "kind": "final"})  # fmt: skip
    assert TypicalCase.objects.get(orgunit=county_at_work).title == suggestion["title"]


def test_late_and_missing_yearly_reports_are_a_data_gap(county_at_work):
    # figures_county stores values without submitting any form: every yearly form owed for
    # 2025 beneath the county is missing (its deadline, in rules.yaml, has passed)
    from xinglin.collection import rules
    from xinglin.collection.forms import Form, expected_orgunits

    assert rules.deadline(str(YEAR)) < date.today()
    owed = [u for t in ("tcm_hospital", "township_health_center", "village_clinic")
            if Form(t, "yearly").elements()
            for u in expected_orgunits(Form(t, "yearly"), str(YEAR), within=county_at_work)]  # fmt: skip
    assert owed
    text = "".join(p.text for p in draft(gather("annual", county_at_work, YEAR)))
    assert f"2025年度报表应报{len(owed)}家，逾期报送0家，未报送{len(owed)}家（" in text

"""The agreement test (issue 17.1): one county's standing — every indicator's status, value,
gap and falling-short list, the verdict and its counts — is the same on every surface that
shows it: its own scorecard, the city scorecard's row for it, the city's evaluation, the league
table, the dashboard, the documents (figures, xlsx scorecard and annex), `xinglin evaluate`
(county and city), the API's evaluation JSON and the FHIR MeasureReports.

The county is demo-like: two townships' health centres and clinics, the county TCM hospital,
visits by month, halls, techniques, surveys, a population smaller than the children managed
(a data error), accepted and pending evidence, and a second county in the same city."""

from __future__ import annotations

import io
import json
from datetime import date, datetime

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from xinglin.api.actions import create_token
from xinglin.collection.actions import write_rows
from xinglin.collection.models import DeliveredTechnique, Submission
from xinglin.core import labels
from xinglin.documents import content
from xinglin.documents.formats import xlsx
from xinglin.documents.gather import gather, status_label
from xinglin.evaluation.engine import evaluate
from xinglin.network.actions import create_institution, import_divisions
from xinglin.network.models import OrgUnit
from xinglin.plans.actions import (
    default_period,
    evidence_kind_for,
    review_evidence,
    upload_evidence,
)
from xinglin.standards import categories, operands
from xinglin.standards.actions import set_bureau_target
from xinglin.standards.catalogue import sync_catalogue
from xinglin.standards.labels import expression_of
from xinglin.standards.loader import all_packs
from xinglin.standards.models import DataElement, TechniqueItem

YEAR = "2025"
COUNTY, CITY, OTHER = "640323", "6403", "640324"
PACK = "demo-county-2022"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def demo_like(county, settings, tmp_path, alice):
    settings.MEDIA_ROOT = tmp_path
    sync_catalogue()
    import_divisions(OTHER)
    other_township = OrgUnit.objects.filter(parent__code=OTHER).order_by("code").first()
    create_institution(code="640324000001", name="同心县中医医院", institution_type="tcm_hospital",
                       parent=OrgUnit.objects.get(code=OTHER))  # fmt: skip
    create_institution(code=f"{other_township.code}001", name="同心某镇卫生院",
                       institution_type="township_health_center", parent=other_township)  # fmt: skip
    elements = {e.code: e for e in DataElement.objects.all()}
    units = {u.code: u for u in OrgUnit.objects.all()}
    rows = []
    centres = {"640323100001": (100, 40), "640323101001": (100, 25),
               f"{other_township.code}001": (80, 30)}  # fmt: skip
    for year in (2024, 2025):
        for code, (total, tcm) in centres.items():
            for month in range(1, 13):
                period = f"{year}{month:02d}"
                rows += [("total_visits", code, period, total), ("tcm_visits", code, period, tcm)]
        rows += [
            ("has_tcm_hall", "640323100001", str(year), 1),
            ("has_tcm_hall", "640323101001", str(year), 0),
            ("has_tcm_department", "640323100001", str(year), 1),
            ("has_tcm_pharmacy", "640323100001", str(year), 1),
            ("has_tcm_equipment", "640323100001", str(year), 1),
            ("physicians", "640323100001", str(year), 8),
            ("tcm_physicians", "640323100001", str(year), 3),
            ("physicians", "640323101001", str(year), 10),
            ("tcm_physicians", "640323101001", str(year), 1),
            ("hospital_grade", "640323000001", str(year), 23),
            ("hospital_grade", "640324000001", str(year), 22),
            ("emr_level", "640323000001", str(year), 4),
            ("rehab_beds", "640323000001", str(year), 30 + (year - 2024) * 12),
            ("provides_tcm_services", "640323100101", str(year), 1),
            ("provides_tcm_services", "640323100102", str(year), 0),
            ("residents", "640323100", str(year), 50000),
            ("residents", "640323101", str(year), 30000),
            ("tcm_general_practitioners", "640323100001", str(year), 4),
            # 大水坑镇: 709 children managed of 682 — impossible, a data error
            # reported by sex (decision 0013): the figure is the sum, 360 + 349 = 709
            ("children_tcm_managed.F", "640323101001", str(year), 360),
            ("children_tcm_managed.M", "640323101001", str(year), 349),
            ("children_0_36_months", "640323101", str(year), 682),
            ("children_tcm_managed.F", "640323100001", str(year), 150),
            ("children_tcm_managed.M", "640323100001", str(year), 150),
            ("children_0_36_months", "640323100", str(year), 400),
            ("satisfaction_respondents", COUNTY, str(year), 200),
            ("satisfaction_satisfied", COUNTY, str(year), 185),
        ]
    write_rows([(_element(elements, e), units[o], p, float(v)) for e, o, p, v in rows])
    items = list(TechniqueItem.objects.order_by("code")[:12])
    DeliveredTechnique.objects.bulk_create(
        DeliveredTechnique(orgunit=units["640323100001"], period=YEAR, item=item) for item in items
    )
    # timely reporting (item 21) from the submissions: one form on time, one late
    for code, at in (
        ("640323100001", datetime(2026, 1, 10, 9)),
        ("640323000001", datetime(2026, 1, 20, 9)),
    ):
        Submission.objects.create(form="x", orgunit=units[code], period=YEAR, status="submitted",
                                  submitted_at=timezone.make_aware(at))  # fmt: skip
    # item 22 against the bureau's own targets: beds set (judged), the others 目标未设定
    write_rows([(elements["beds"], units["640323000001"], YEAR, 300.0),
                (elements["beds"], units["640323100001"], YEAR, 60.0)])  # fmt: skip
    set_bureau_target(units[COUNTY], int(YEAR), "beds_per_1000", 4.0, user=alice)
    evidence = [i.id for i in all_packs()[PACK].indicators if not i.is_computed]
    for k, indicator in enumerate(evidence[:4]):
        # dated evidence: covering the year judged (a standing document from mid-year, or
        # that year's records)
        period = default_period(evidence_kind_for(pack=PACK, indicator=indicator),
                                date(int(YEAR), 6, 30))  # fmt: skip
        uploaded = upload_evidence(orgunit=units[COUNTY], name="plan.pdf", content=PDF,
                                   user=alice, pack=PACK, indicator=indicator,
                                   period=period)  # fmt: skip
        if k < 3:  # the fourth stays pending
            review_evidence(uploaded, user=alice, accept=k < 2, comment="" if k < 2 else "不全")
    return units[COUNTY]


def bearer(user) -> dict[str, str]:
    _row, token = create_token(user, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _truth(pack: str) -> tuple[dict[str, dict], dict[str, int], str]:
    """The county's own evaluation: figure by figure, the counts and the verdict."""
    evaluation = evaluate(pack, COUNTY, YEAR)
    figures = {
        r.indicator: {"status": r.status, "value": r.value, "gap": r.gap,
                      "failing": r.failing, "numerator": r.numerator, "denominator": r.denominator}
        for r in evaluation.at(COUNTY)
    }  # fmt: skip
    return figures, dict(evaluation.verdict.counts), evaluation.verdict.status


def _same(rows, truth: dict[str, dict], where: str) -> None:
    """rows: (indicator, {field: value}) from a surface; each field equals the truth's."""
    seen = set()
    for indicator, got in rows:
        want = truth[indicator]
        for key, value in got.items():
            assert value == want[key], (where, indicator, key, value, want[key])
        seen.add(indicator)
    assert seen == set(truth), (where, set(truth) ^ seen)


FIELDS = ("status", "value", "gap", "failing", "numerator", "denominator")


def test_every_surface_shows_the_same_standing(  # noqa: PLR0915 — every surface, in one walk
    demo_like, client_for, alice, victor, tmp_path
):
    truth, counts, verdict = _truth(PACK)
    statuses = {f["status"] for f in truth.values()}
    # the fixture exercises the statuses the surfaces must agree on
    assert {"met", "not_met", "awaiting_evidence"} <= statuses
    assert counts["met"] >= 5 and sum(counts.values()) == len(truth)
    # timely reporting is computed from the submissions (seeds/001 item 21)
    assert truth["system.timely_reporting"]["numerator"] == 1
    # item 22: the bureau's beds target judges (360 × 1000 / 80,000 = 4.5 ≥ 4), the unset
    # ones are their own state on every surface
    assert truth["workforce.beds_per_1000"]["status"] == "met"
    assert truth["workforce.nurses_per_1000"]["status"] == "target_unset"

    # the city's evaluation holds the county's figures, evidence items included
    city = evaluate(PACK, CITY, YEAR)
    _same([(r.indicator, {k: getattr(r, k) for k in FIELDS}) for r in city.at(COUNTY)],
          truth, "city evaluation")  # fmt: skip
    assert city.standing(COUNTY).counts == counts and city.standing(COUNTY).status == verdict

    # the county's scorecard page and its JSON twin
    page = client_for(alice).get(reverse("evaluation:scorecard"),
                                 {"pack": PACK, "orgunit": COUNTY, "period": YEAR})  # fmt: skip
    card = page.context["card"]
    _same([(row.result.indicator, {k: getattr(row.result, k) for k in FIELDS})
           for row in card.rows], truth, "county scorecard")  # fmt: skip
    assert card.evaluation.verdict.counts == counts
    exported = client_for(alice).get(reverse("evaluation:scorecard_export", args=["json"]),
                                     {"pack": PACK, "orgunit": COUNTY, "period": YEAR})  # fmt: skip
    _same([(r["indicator"], {k: r[k] for k in FIELDS}) for r in json.loads(exported.content)
           if r["orgunit"] == COUNTY], truth, "scorecard.json")  # fmt: skip

    # the city scorecard's row for the county (viewer over the city)
    page = client_for(victor).get(reverse("evaluation:scorecard"),
                                  {"pack": PACK, "orgunit": CITY, "period": YEAR})  # fmt: skip
    row = next(c for c in page.context["card"].children if c["unit"].code == COUNTY)
    assert row["counts"] == counts and row["verdict"] == verdict
    assert f'<td class="num">{counts["met"]}</td>' in page.content.decode()

    # `xinglin evaluate` for the county and for the city
    for scope in (COUNTY, CITY):
        output = tmp_path / f"evaluate-{scope}.json"
        call_command("evaluate", pack=PACK, orgunit=scope, period=YEAR, format="json",
                     backend="database", output=str(output), stderr=io.StringIO())  # fmt: skip
        rows = [r for r in json.loads(output.read_text()) if r["orgunit"] == COUNTY]
        _same([(r["indicator"], {k: r[k] for k in FIELDS}) for r in rows], truth,
              f"xinglin evaluate --orgunit {scope}")  # fmt: skip

    # the API's evaluation JSON and the FHIR MeasureReports, asked about the city
    query = {"pack": PACK, "orgunit": CITY, "period": YEAR, "at": COUNTY, "limit": 500}
    api = client_for(victor).get("/api/v1/evaluations", query, **bearer(victor)).json()
    _same([(r["indicator"], {k: r[k] for k in FIELDS}) for r in api["items"]], truth, "API")
    fhir_query = {k: v for k, v in query.items() if k != "limit"}  # FHIR refuses unknown ones
    bundle = client_for(victor).get("/api/v1/fhir/MeasureReport", fhir_query, **bearer(victor))
    bundle = bundle.json()
    reports = [e["resource"] for e in bundle["entry"]]
    computed = {k: v for k, v in truth.items() if v["value"] is not None or k in {
        r["group"][0]["code"]["coding"][0]["code"] for r in reports}}  # fmt: skip
    for report in reports:
        indicator = report["group"][0]["code"]["coding"][0]["code"]
        status = next(e["valueCode"] for e in report["extension"]
                      if e["url"].endswith("evaluation-status"))  # fmt: skip
        assert status == computed[indicator]["status"], indicator
        score = report["group"][0].get("measureScore", {}).get("value")
        assert score == computed[indicator]["value"], indicator

    # the documents: figures, the xlsx scorecard and annex
    data = gather("annual", demo_like, int(YEAR))
    pack = next(p for p in data.packs if p.info.code == PACK)
    _same([(f["indicator"], {k: f[k] for k in FIELDS}) for f in pack.own], truth, "documents")
    assert pack.summary.counts == counts and pack.summary.verdict == verdict
    book = load_workbook(io.BytesIO(xlsx.render(content.build_report(data), data)))
    sheet = list(book[xlsx.SCORECARD_SHEET].iter_rows(values_only=True))
    header = sheet[1]
    cells = [dict(zip(header, r, strict=True)) for r in sheet[2:]]
    mine = [c for c in cells if c["标准"] == PACK]
    _same([(c["指标编码"], {"status": _status_of(c["状态"])}) for c in mine], truth, "xlsx")
    annex = list(book[xlsx.ANNEX_SHEET].iter_rows(values_only=True))
    annex_rows = [dict(zip(annex[0], r, strict=True)) for r in annex[1:]]
    mine = [r for r in annex_rows
            if r["标准"] == PACK and r["单位编码"] == COUNTY and str(r["年度"]) == YEAR]  # fmt: skip
    _same([(r["指标编码"], {"status": _status_of(r["状态"]), "numerator": r["分子"],
                         "denominator": r["分母"]}) for r in mine], truth, "xlsx annex")  # fmt: skip

    # the dashboards: the county's verdicts, the city's league table and groups
    board = client_for(alice).get(reverse("home"), {"orgunit": COUNTY, "year": YEAR})
    verdicts = {v["pack"]: v for v in board.context["board"]["verdicts"]}
    assert {k: verdicts[PACK][k] for k in counts} == counts
    assert verdicts[PACK]["verdict"] == verdict
    board = client_for(victor).get(reverse("home"), {"orgunit": CITY, "year": YEAR})
    league = board.context["board"]["league"]
    column = [c["code"] for c in league["counties"]].index(COUNTY)
    cells = [(r["indicator"], r["cells"][column]) for r in league["rows"] if r["pack"] == PACK]
    figures = {f["indicator"]: f for f in pack.own}
    # the league leaves out an indicator that applies to no county (not_applicable everywhere)
    shown = {i for i, _cell in cells}
    assert {i for i, f in truth.items() if f["status"] != "not_applicable"} <= shown
    _same([(i, {"status": c["status"]}) for i, c in cells],
          {i: f for i, f in truth.items() if i in shown}, "league")  # fmt: skip
    for indicator, cell in cells:  # the value as the page writes it (grades in words, units)
        unit, expression = figures[indicator]["unit"], expression_of(PACK, indicator)
        assert cell["shown"] == labels.number(truth[indicator]["value"], unit, expression)
    mine = next(p for p in league["packs"] if p["pack"] == PACK)
    assert mine["met"][column] == counts["met"]  # the figure the county's scorecard shows
    everything = [_truth(p.info.code)[1] for p in data.packs]
    assert league["met"][column] == sum(c["met"] for c in everything)
    assert league["counts"][column] == {s: sum(c[s] for c in everything) for s in everything[0]}
    groups = gather("annual", OrgUnit.objects.get(code=CITY), int(YEAR)).met_by_group()
    name = OrgUnit.objects.get(code=COUNTY).name
    assert (name, sum(c["met"] for c in everything), sum(c["not_met"] for c in everything)) in (
        groups
    )


def _status_of(label: str) -> str:
    return next(s for s in ("met", "not_met", "no_data", "not_applicable", "awaiting_evidence",
                            "data_error", "target_unset") if status_label(s) == label)  # fmt: skip


def test_the_impossible_share_is_a_data_error_on_every_surface(demo_like, client_for, victor):
    """大水坑镇: 709 children managed of 682 is never met; the township is named with the
    reason in words, and the city's evaluation says the same."""
    township = evaluate("work-points-2023", "640323101", YEAR)
    result = township.result("work_points.child_tcm_management_rate")
    assert (result.status, result.value) == ("data_error", pytest.approx(709 / 682, abs=1e-9))
    assert "比例超过100%" in result.why["640323101"] and "709" in result.why["640323101"]
    county = evaluate("work-points-2023", COUNTY, YEAR)
    assert county.result("work_points.child_tcm_management_rate", "640323101").status == (
        "data_error"
    )
    assert county.standing("640323101").counts["data_error"] >= 1
    city = evaluate("work-points-2023", CITY, YEAR)
    assert city.result("work_points.child_tcm_management_rate", "640323101").why == result.why


def _element(elements: dict, text: str):
    """The element a row names, or the element with one of its option combinations."""
    code, combo = categories.split(text)
    return operands.Operand(elements[code], combo) if combo else elements[code]

"""FHIR stratifiers (issue 23 point 4, decision 0015): an indicator whose numerator is reported
by sex has a stratifier on its Measure, and its reports a stratum per option whose numerator is
the engine's figure within that option — checked against a plain sum of the stored F/M values,
and against the group's numerator, which the strata add up to. Every resource validates with
fhir.resources (R4B); indicators without categories have no stratifier."""

from __future__ import annotations

import random

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.measure import Measure
from fhir.resources.R4B.measurereport import MeasureReport

from xinglin.api.formats import fhir
from xinglin.api.tests.test_fhir import BASE, PACK, SHARE, _empty_arrays, _get, _hl7, _reports
from xinglin.collection.actions import write_rows
from xinglin.collection.models import DataValue
from xinglin.evaluation import exports
from xinglin.evaluation.actions import replace_derived_values
from xinglin.evaluation.engine import evaluate
from xinglin.network.models import OrgUnit
from xinglin.standards import categories
from xinglin.standards.loader import all_packs, load_pack, read_elements
from xinglin.standards.models import DataElement
from xinglin.standards.operands import Operand

RATE = "services.elderly_tcm_health_management_rate"  # sum(elderly_tcm_managed) / own(residents_65_plus)
TOWNSHIP = "640323100"  # bob's
YEAR = "2024"
GENDER = "http://hl7.org/fhir/administrative-gender"
# the indicators with categories in the packs we ship: the two key-population management rates
WITH_CATEGORIES = {
    ("demo-county-2022", "services.elderly_tcm_health_management_rate"),
    ("demo-county-2022", "services.child_tcm_health_management_rate"),
    ("work-points-2023", "work_points.elderly_tcm_management_rate"),
    ("work-points-2023", "work_points.child_tcm_management_rate"),
}


@pytest.fixture(autouse=True)
def fhir_base(settings):
    settings.XINGLIN_FHIR_BASE = BASE
    return BASE


@pytest.fixture
def by_sex(stored):
    """Women and men managed at every institution of bob's township, written as a DHIS2 client
    or the form would (one value per option), and the township's residents 65+."""
    elderly = DataElement.objects.get(code="elderly_tcm_managed")
    residents = DataElement.objects.get(code="residents_65_plus")
    rng = random.Random(23_4)
    rows = [(residents, OrgUnit.objects.get(code=TOWNSHIP), YEAR, 2000.0)]
    for unit in OrgUnit.objects.filter(
        path__startswith=OrgUnit.objects.get(code=TOWNSHIP).path,
        institution_type__in=elderly.institution_types,
    ):
        for combo in ("F", "M"):
            rows.append((Operand(elderly, combo), unit, YEAR, float(rng.randint(20, 400))))
    write_rows(rows)
    return rows


def _plain_sum(combo: str | None = None) -> float:
    """The stored values of the township's institutions, added up in Python."""
    rows = DataValue.objects.filter(
        element__code="elderly_tcm_managed", period=YEAR, orgunit__code__startswith=TOWNSHIP
    )
    if combo is not None:
        rows = rows.filter(combo=combo)
    return sum(rows.values_list("value", flat=True))


def _report(client, headers) -> tuple[dict, MeasureReport]:
    query = {"measure": fhir.measure_id(PACK, RATE), "subject": TOWNSHIP, "period": YEAR}
    document, [report] = _reports(client, headers, query)
    return document["entry"][0]["resource"], report


def _count(populations, code: str) -> int | None:
    return next((p.count for p in populations or [] if p.code.coding[0].code == code), None)


def test_the_strata_are_the_engines_and_add_up_to_the_group(client, bob, by_sex, bearer):
    raw, report = _report(client, bearer(bob))
    assert _empty_arrays(raw) == []
    [group] = report.group
    total = _count(group.population, "numerator")
    assert total == _plain_sum() > 0
    [stratifier] = group.stratifier
    [code] = stratifier.code
    assert (code.coding[0].system, code.coding[0].code) == (f"{BASE}CodeSystem/xinglin-categories",
                                                            "sex")  # fmt: skip
    by_option = {}
    for stratum in stratifier.stratum:
        ours = next(c for c in stratum.value.coding if c.system != GENDER)
        by_option[ours.code] = stratum
    assert list(by_option) == ["F", "M"]
    women, men = (_count(by_option[o].population, "numerator") for o in ("F", "M"))
    assert women == _plain_sum("F")  # an independent sum of the stored values
    assert men == _plain_sum("M")
    assert women + men == total  # the strata add up to the group
    for stratum in stratifier.stratum:
        # the denominator (residents 65+) is not reported by sex: a stratum has no rate
        assert [p.code.coding[0].code for p in stratum.population] == ["numerator"]
        assert stratum.measureScore is None
    assert float(group.measureScore.value) == pytest.approx(total / 2000.0, abs=1e-9)


def test_a_stratum_is_coded_with_hl7s_gender_and_our_option_in_the_users_language(
    client, bob, by_sex, bearer
):
    _raw, report = _report(client, bearer(bob))
    female = report.group[0].stratifier[0].stratum[0].value
    hl7, ours = female.coding
    assert (hl7.system, hl7.code, hl7.display) == (GENDER, "female", "Female")
    options = f"{BASE}CodeSystem/xinglin-category-sex"
    assert (ours.system, ours.code, ours.display) == (options, "F", "女")
    assert female.text == "女"
    client.cookies["django_language"] = "en"
    _raw, report = _report(client, bearer(bob))
    female = report.group[0].stratifier[0].stratum[0].value
    assert (female.coding[1].display, female.text) == ("Female", "Female")
    assert report.group[0].stratifier[0].code[0].text == "Sex"


def test_read_by_id_gives_the_strata_of_the_search(client, bob, by_sex, bearer):
    raw, _report_found = _report(client, bearer(bob))
    read = _get(client, f"MeasureReport/{raw['id']}", **bearer(bob))
    assert read.status_code == 200
    MeasureReport.model_validate(read.json())
    assert read.json()["group"] == raw["group"]


def test_no_stratifier_on_indicators_without_categories(client, bob, by_sex, bearer):
    query = {"pack": PACK, "orgunit": TOWNSHIP, "period": YEAR}
    document, reports = _reports(client, bearer(bob), query)
    assert _empty_arrays(document) == []
    stratified = {r.group[0].code.coding[0].code for r in reports if r.group[0].stratifier}
    assert stratified == {RATE}  # the children's rate has no values, so no figure to split
    share = [r for r in reports if r.group[0].code.coding[0].code == SHARE]
    assert share and all(r.group[0].stratifier is None for r in share)


def test_the_measures_name_the_stratifier_of_each_indicator_with_categories(
    client, alice, catalogue, bearer
):
    document = _get(client, "Measure", **bearer(alice)).json()
    Bundle.model_validate(document)
    assert _empty_arrays(document) == []
    stratified = set()
    for entry in document["entry"]:
        measure = Measure.model_validate(entry["resource"])
        pack, _slash, indicator = measure.identifier[0].value.partition("/")
        if not measure.group[0].stratifier:
            continue
        stratified.add((pack, indicator))
        [stratifier] = measure.group[0].stratifier
        coding = stratifier.code.coding[0]
        assert (coding.system, coding.code) == (f"{BASE}CodeSystem/xinglin-categories", "sex")
        assert (stratifier.criteria.language, stratifier.criteria.expression) == (
            fhir.CATEGORY_LANGUAGE,
            "sex",
        )
        assert "elderly_tcm_managed" in stratifier.criteria.description or (
            "children_tcm_managed" in stratifier.criteria.description
        )
        assert "no score" in stratifier.description  # the denominator is not split
    assert stratified == WITH_CATEGORIES


def test_which_indicators_have_categories():
    """Decision 0015: every element of the numerator split by the category, and a numerator
    that adds up over its options."""
    rate = next(
        i for i in all_packs()["work-points-2023"].indicators
        if i.id == "work_points.elderly_tcm_management_rate"
    )  # fmt: skip
    assert categories.of_indicator(rate.expression) == ["sex"]
    assert categories.scored_within(rate.expression, "sex") is False
    parse = fhir.ex.parse
    assert categories.of_indicator(parse("sum(elderly_tcm_managed) + own(children_tcm_managed)")) \
        == ["sex"]  # fmt: skip
    assert categories.scored_within(parse("sum(elderly_tcm_managed)"), "sex") is True
    assert categories.scored_within(
        parse("sum(elderly_tcm_managed) / sum(children_tcm_managed)"), "sex"
    )
    for text in ["sum(elderly_tcm_managed) + sum(total_visits)",  # one element not split
                 "max(elderly_tcm_managed)",  # the women's maximum and the men's do not add up
                 "sum(elderly_tcm_managed) * 2", "sum(total_visits) / own(residents)",
                 "share(elderly_tcm_managed > 0)"]:  # fmt: skip
        assert categories.of_indicator(parse(text)) == [], text


def test_a_total_derived_from_care_records_leaves_the_report_without_strata(
    client, bob, by_sex, bearer
):
    """A value derived from care records is a total, not split by sex: within a stratum that
    unit has no figure, so the strata would not add up to the total — the report gives none."""
    replace_derived_values("care.constitution", [("elderly_tcm_managed", "640323100001", YEAR,
                                                  300.0)], [YEAR])  # fmt: skip
    _raw, report = _report(client, bearer(bob))
    [group] = report.group
    assert _count(group.population, "numerator") is not None
    assert group.stratifier is None


def test_the_category_code_systems_are_published(client, bob, by_sex, bearer):
    statement = CapabilityStatement.model_validate(_get(client, "metadata").json())
    assert "CodeSystem" in {r.type for r in statement.rest[0].resource}
    listing = _get(client, "CodeSystem").json()
    Bundle.model_validate(listing)
    assert _empty_arrays(listing) == []
    published = {e["resource"]["url"]: CodeSystem.model_validate(e["resource"])
                 for e in listing["entry"]}  # fmt: skip
    catalogue = categories.catalogue()
    systems = published[f"{BASE}CodeSystem/xinglin-categories"]
    assert [(c.code, c.display) for c in systems.concept] == [("sex", "性别"),
                                                              ("age_band", "年龄组")]  # fmt: skip
    assert systems.concept[1].designation[0].value == "Age band"
    ages = published[f"{BASE}CodeSystem/xinglin-category-age-band"]
    assert [c.code for c in ages.concept] == [o.code for o in catalogue["age_band"].options]
    assert ages.content == "complete" and ages.count == 4
    # every system a report's stratifier names resolves to a published CodeSystem
    _raw, report = _report(client, bearer(bob))
    stratifier = report.group[0].stratifier[0]
    named = {stratifier.code[0].coding[0].system} | {
        c.system for s in stratifier.stratum for c in s.value.coding if c.system != GENDER
    }
    assert named <= set(published)
    for url in named:
        read = _get(client, url[len(BASE) :])
        assert read.status_code == 200
        assert CodeSystem.model_validate(read.json()).url == url
    assert _get(client, "CodeSystem/nope").status_code == 404
    found = _get(client, "CodeSystem", {"url": f"{BASE}CodeSystem/xinglin-category-sex"}).json()
    assert [e["resource"]["id"] for e in found["entry"]] == ["xinglin-category-sex"]


def test_a_stratum_of_a_rate_over_split_figures_has_its_own_rate(by_sex, tmp_path):
    """When the denominator is reported by sex too, a stratum's rate is the stratum's: its
    score and both counts are the engine's figures within the option."""
    children = DataElement.objects.get(code="children_tcm_managed")
    units = OrgUnit.objects.filter(path__startswith=OrgUnit.objects.get(code=TOWNSHIP).path,
                                   institution_type__in=children.institution_types)  # fmt: skip
    write_rows([(Operand(children, combo), unit, YEAR, 100.0 if combo == "F" else 300.0)
                for unit in units for combo in ("F", "M")])  # fmt: skip
    path = tmp_path / "split-rate.yaml"
    path.write_text(
        "pack: split-rate\ntitle: {zh: 测试}\nsource: x\nindicators:\n"
        "  - {id: r.elderly_per_child, name: {zh: 老人数与儿童数之比}, source: x, kind: computed,"
        " judged_at: [township], over: [township_health_center, village_clinic],"
        " value: sum(elderly_tcm_managed) / sum(children_tcm_managed), unit: ratio,"
        " target: '>= 1'}\n",
        encoding="utf-8",
    )
    pack = load_pack(path, read_elements())
    [indicator] = pack.indicators
    assert categories.scored_within(indicator.expression, "sex")

    def row(stratum=None) -> dict:
        evaluation = evaluate(pack, TOWNSHIP, YEAR, tree=False, stratum=stratum)
        return exports.as_rows([evaluation.result(indicator.id, TOWNSHIP)])[0]

    strata = {"sex": {o: row({"sex": o}) for o in ("F", "M")}}
    report = fhir.measure_report(row(), pack, indicator, BASE, strata)
    MeasureReport.model_validate(report)
    assert _empty_arrays(report) == []
    [women, men] = report["group"][0]["stratifier"][0]["stratum"]
    count = len(units)
    assert {p["code"]["coding"][0]["code"]: p["count"] for p in women["population"]} == {
        "initial-population": 100 * count, "denominator": 100 * count,
        "numerator": _plain_sum("F"),
    }  # fmt: skip
    assert women["measureScore"]["value"] == pytest.approx(_plain_sum("F") / (100 * count))
    assert men["measureScore"]["value"] == pytest.approx(_plain_sum("M") / (300 * count))
    assert women["measureScore"]["code"] == "1"  # a ratio's unit, as the group's
    measure = fhir.measure(pack, indicator, BASE)
    Measure.model_validate(measure)
    assert "each stratum has its own score" in measure["group"][0]["stratifier"][0]["description"]


def test_our_stratifiers_have_the_shape_of_hl7s(client, bob, by_sex, bearer):
    """HL7's CMS146 example: a Measure stratifier is a code and criteria; a report's is a list
    of codes and strata, each a value and population counts by population code."""
    theirs = _hl7("Measure-measure-cms146-example.json")["group"][0]["stratifier"][0]
    measure = _get(client, f"Measure/{fhir.measure_id(PACK, RATE)}", **bearer(bob)).json()
    ours = measure["group"][0]["stratifier"][0]
    assert set(theirs) <= set(ours)
    assert set(theirs["criteria"]) <= set(ours["criteria"])
    example = _hl7("MeasureReport-measurereport-cms146-cat3-example.json")
    theirs = example["group"][0]["stratifier"][0]
    raw, _report_found = _report(client, bearer(bob))
    ours = raw["group"][0]["stratifier"][0]
    assert set(ours) == set(theirs) == {"code", "stratum"}
    assert isinstance(ours["code"], list) and isinstance(theirs["code"], list)
    for stratum in ours["stratum"]:
        assert set(theirs["stratum"][0]) <= set(stratum)  # value, population
        codes = {p["code"]["coding"][0]["code"] for p in stratum["population"]}
        assert codes <= {p["code"]["coding"][0]["code"] for p in theirs["stratum"][0]["population"]}

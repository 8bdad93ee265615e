from __future__ import annotations

import shutil

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from xinglin.standards.catalogue import PACKS_DIR
from xinglin.standards.loader import all_packs, check_packs

PACKS = ["capacity-2021-2025", "demo-county-2022", "health-services-2021-2025",
         "rehab-2021-2025", "work-points-2023"]  # fmt: skip


def test_every_pack_loads():
    packs, errors = check_packs()
    assert errors == []
    assert sorted(p.code for p in packs) == PACKS


def test_each_indicator_cites_its_source_file():
    for pack in all_packs().values():
        seed = pack.source.split(";")[0].strip()
        assert seed.startswith("seeds/")
        for indicator in pack.indicators:
            assert indicator.source.startswith(seed), (pack.code, indicator.id)


def test_demo_county_covers_items_1_to_37_with_the_named_targets():
    pack = all_packs()["demo-county-2022"]
    assert {i.item for i in pack.indicators} == set(range(1, 38))
    targets = {i.id: i.target.text for i in pack.indicators if i.is_computed}
    assert targets["grassroots.tcm_visit_share"] == ">= 35%"
    assert pack.indicator("grassroots.techniques_6_10").value == (
        "share(technique_categories >= 6 and technique_items >= 10)"
    )
    assert pack.indicator("organisation.development_plan").kind == "evidence"


def _broken(tmp_path, old: str, new: str):
    shutil.copy(PACKS_DIR / "core.yaml", tmp_path / "core.yaml")
    text = (PACKS_DIR / "work-points-2023.yaml").read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "work-points-2023.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")


def test_packs_check_passes(capsys):
    call_command("packs", "check")
    assert capsys.readouterr().out.endswith("ok: 5 packs, 146 indicators\n")


def test_packs_check_names_file_indicator_and_position_of_an_unknown_element(tmp_path):
    _broken(tmp_path, "share(tcm_visits >= 0.35 * total_visits)",
            "share(tcm_visit >= 0.35 * total_visits)")  # fmt: skip
    with pytest.raises(CommandError) as caught:
        call_command("packs", "check", "--dir", str(tmp_path))
    assert caught.value.returncode == 2
    assert str(caught.value) == (
        "work-points-2023.yaml: indicator work_points.health_centre_tcm_visit_share: value, "
        "position 7: unknown data element 'tcm_visit'"
    )


def test_packs_check_rejects_a_malformed_target(tmp_path):
    _broken(tmp_path, 'target: ">= 75%"', 'target: "at least 75%"')
    with pytest.raises(CommandError) as caught:
        call_command("packs", "check", "--dir", str(tmp_path))
    assert str(caught.value).startswith(
        "work-points-2023.yaml: indicator work_points.elderly_tcm_management_rate: target "
        "'at least 75%' is malformed"
    )


def test_packs_load_checks_the_packs_and_loads_their_catalogue(db):
    """`packs load` reads the packs from their files (no copy in the database) and syncs the
    data elements they declare; its count is the files' own, counted here with plain YAML."""
    import io

    import yaml

    from xinglin.standards.catalogue import PACKS_DIR
    from xinglin.standards.models import DataElement

    DataElement.objects.all().delete()
    out = io.StringIO()
    call_command("packs", "load", stdout=out)
    files = [p for p in sorted(PACKS_DIR.glob("*.yaml")) if p.name != "core.yaml"]
    total = sum(len(yaml.safe_load(p.read_text(encoding="utf-8"))["indicators"]) for p in files)
    assert (
        out.getvalue().strip()
        == f"{total} indicators in {len(files)} packs checked; catalogue loaded"
    )
    core = yaml.safe_load((PACKS_DIR / "core.yaml").read_text(encoding="utf-8"))
    assert DataElement.objects.count() == len(core["data_elements"])


def test_packs_check_refuses_an_indicator_without_a_judging_level(tmp_path):
    _broken(tmp_path, "    judged_at: [county]\n", "")
    with pytest.raises(CommandError) as caught:
        call_command("packs", "check", "--dir", str(tmp_path))
    assert caught.value.returncode == 2
    assert str(caught.value).startswith(
        "work-points-2023.yaml: indicator work_points.tcm_hall_count: `judged_at`"
    )


def test_packs_check_refuses_a_deadline_against_its_plan_milestone(tmp_path):
    """The rehabilitation beds are due 2023 in the plan (milestone 2023-12-31)."""
    shutil.copy(PACKS_DIR / "core.yaml", tmp_path / "core.yaml")
    text = (PACKS_DIR / "rehab-2021-2025.yaml").read_text(encoding="utf-8")
    beds = "not any TCM hospital\n    deadline: 2023\n"
    assert beds in text
    text = text.replace(beds, "not any TCM hospital\n", 1)
    (tmp_path / "rehab-2021-2025.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("packs", "check", "--dir", str(tmp_path))
    assert caught.value.returncode == 2
    assert str(caught.value) == (
        "rehab-2021-2025.yaml: indicator rehab.tcm_hospital_rehab_beds: deadline None"
        " contradicts the plan milestone due 2023 (rehab-2021-2025.yaml)"
    )


def test_every_indicator_says_where_it_is_judged():
    for pack in all_packs().values():
        for indicator in pack.indicators:
            assert indicator.judged_at, (pack.code, indicator.id)
    hall_count = all_packs()["work-points-2023"].indicator("work_points.tcm_hall_count")
    assert hall_count.judged_at == ("county",)
    beds = all_packs()["rehab-2021-2025"].indicator("rehab.tcm_hospital_rehab_beds")
    assert (beds.roles, beds.deadline) == (("county_tcm_hospital",), 2023)

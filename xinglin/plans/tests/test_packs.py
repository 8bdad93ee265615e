from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from xinglin.plans.actions import load_departments, load_plan
from xinglin.plans.models import Milestone, Plan, Task, TaskStatus
from xinglin.plans.packs import PACKS_DIR, check_packs, read_packs

PACKS = [
    "capacity-2021-2025",
    "demo-county-2022",
    "health-services-2021-2025",
    "rehab-2021-2025",
    "work-points-2023",
]


def test_the_packs_have_no_problems():
    assert check_packs() == []
    assert [p.code for p in read_packs()] == PACKS


def test_every_task_cites_its_source_document():
    for pack in read_packs():
        seed = pack.data["source"]
        assert seed.startswith("seeds/")
        for task in pack.tasks:
            assert task["source"].startswith(seed + " §"), (pack.code, task["number"])
            assert task["text"], (pack.code, task["number"])


def test_plans_check_command_passes(capsys):
    call_command("plans", "check")
    assert capsys.readouterr().out.strip() == "5 plan packs OK"


def test_loading_all_packs_for_the_county(county, capsys):
    call_command("plans", "load", "--orgunit", "640323")
    assert Plan.objects.filter(orgunit=county).count() == 5
    assert Task.objects.count() == 150
    rehab = Plan.objects.get(pack="rehab-2021-2025")
    assert rehab.title_zh == "盐池县中医药康复服务能力提升工程实施方案（2021-2025年）"
    task = rehab.tasks.get(number="三(一)2")
    assert [d.code for d in task.lead.all()] == ["health_commission", "disabled_persons_federation"]
    assert sorted(link.ref for link in task.indicator_links.all()) == [
        "rehab-2021-2025/rehab.general_hospital_standard_department",
        "rehab-2021-2025/rehab.tcm_hospital_rehab_beds",
        "rehab-2021-2025/rehab.tcm_hospital_standard_department",
    ]
    dues = sorted(str(m.due) for m in task.milestones.all())
    assert dues == ["2023-12-31", "2023-12-31", "2025-12-31"]
    # yearly reporting: annual summary by 15 December of each plan year
    summaries = rehab.milestones.filter(key__startswith="reporting:annual_summary:")
    assert [str(m.due) for m in summaries] == [f"{y}-12-15" for y in range(2021, 2026)]
    assert "rehab-2021-2025 → 640323: 17 tasks added" in capsys.readouterr().out


def test_reloading_keeps_progress(plan):
    task = plan.tasks.get(number="三(一)2")
    task.status = TaskStatus.DONE
    task.save()
    load_plan(next(p for p in read_packs() if p.code == plan.pack), plan.orgunit)
    assert Task.objects.get(pk=task.pk).status == TaskStatus.DONE
    assert plan.tasks.count() == 17
    assert Milestone.objects.filter(plan=plan).count() == 17


def test_load_without_orgunit_uses_the_packs_own_division(county, capsys):
    call_command("plans", "load")
    assert list(Plan.objects.values_list("pack", flat=True)) == ["rehab-2021-2025"]
    assert (
        "demo-county-2022: division 150103 not in the network; skipped" in capsys.readouterr().out
    )


def _broken_copy(tmp_path: Path, change) -> Path:
    directory = tmp_path / "packs"
    shutil.copytree(PACKS_DIR, directory)
    path = directory / "rehab-2021-2025.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return directory


def _set(task_index, key, value):
    def change(data):
        data["tasks"][task_index][key] = value

    return change


def _duplicate(data):
    data["tasks"][1]["number"] = data["tasks"][0]["number"]


@pytest.mark.parametrize(
    "change, message",
    [
        (
            _set(0, "lead", ["health_commission", "ministry_of_magic"]),
            "rehab-2021-2025.yaml: task 三(一)1: unknown department 'ministry_of_magic'",
        ),
        (
            _set(1, "support", ["nobody"]),
            "rehab-2021-2025.yaml: task 三(一)2: unknown department 'nobody'",
        ),
        (_duplicate, "rehab-2021-2025.yaml: task 三(一)1: duplicate number"),
        (
            _set(0, "deadline", "2025-13-45"),
            "rehab-2021-2025.yaml: task 三(一)1: bad deadline '2025-13-45' (use YYYY-MM-DD)",
        ),
        (
            _set(0, "indicators", ["rehab-2021-2025/rehab.no_such_thing"]),
            "rehab-2021-2025.yaml: task 三(一)1: unknown indicator 'rehab-2021-2025/rehab.no_such_thing'",
        ),
        (_set(0, "phase", "party"), "rehab-2021-2025.yaml: task 三(一)1: unknown phase 'party'"),
    ],
)
def test_plans_check_names_file_and_task(tmp_path, capsys, change, message):
    directory = _broken_copy(tmp_path, change)
    with pytest.raises(SystemExit) as exit_:
        call_command("plans", "check", "--dir", str(directory))
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err.splitlines()


def test_a_broken_phase_date_is_reported(tmp_path, capsys):
    def change(data):
        data["phases"][0]["end"] = "someday"

    directory = _broken_copy(tmp_path, change)
    with pytest.raises(SystemExit):
        call_command("plans", "check", "--dir", str(directory))
    assert "rehab-2021-2025.yaml: phase launch: bad end date 'someday' (use YYYY-MM-DD)" in (
        capsys.readouterr().err
    )


def test_departments_load_with_aliases(db):
    assert load_departments() == 27
    from xinglin.plans.models import Department

    education = Department.objects.get(code="education_sports")
    assert "县教体局" in education.aliases

"""Reading and checking plan packs (xinglin/plans/packs/*.yaml; the format is in README.md there).

`check_packs()` returns every problem as "<file>: task <number>: <message>", so that
`xinglin plans check` names the file and the task; loading refuses a pack with problems."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from xinglin.plans.indicators import INDICATOR_PACKS_DIR, read_indicator_packs
from xinglin.standards.loader import load_yaml

PACKS_DIR = Path(__file__).resolve().parent / "packs"
DEPARTMENTS_FILE = "departments.yaml"
CATEGORIES = {"task", "project", "policy", "safeguard"}
MONTH_DAY = re.compile(r"^(\d\d)-(\d\d)$")


class PackError(ValueError):
    """A plan pack that cannot be loaded; the message lists every problem."""


@dataclass
class PlanPack:
    path: Path
    data: dict
    errors: list[str] = field(default_factory=list)

    @property
    def code(self) -> str:
        return str(self.data.get("plan", self.path.stem))

    @property
    def tasks(self) -> list[dict]:
        return self.data.get("tasks") or []


def read_departments(directory: Path = PACKS_DIR) -> list[dict]:
    data = load_yaml((directory / DEPARTMENTS_FILE).read_text(encoding="utf-8")) or {}
    return data.get("departments") or []


def plan_pack_paths(directory: Path = PACKS_DIR) -> list[Path]:
    return [p for p in sorted(directory.glob("*.yaml")) if p.name != DEPARTMENTS_FILE]


def read_pack(path: Path, departments: set[str], indicators: set[str]) -> PlanPack:
    """Parse one plan pack and collect its problems (never raises on bad content)."""
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        return PlanPack(path, {}, [f"{path.name}: not valid YAML: {error}"])
    if not isinstance(data, dict):
        return PlanPack(path, {}, [f"{path.name}: not a mapping"])
    pack = PlanPack(path, data)
    pack.errors = _Checker(path.name, data, departments, indicators).run()
    return pack


def read_packs(
    directory: Path = PACKS_DIR, indicator_dir: Path = INDICATOR_PACKS_DIR
) -> list[PlanPack]:
    departments = {str(d.get("code")) for d in read_departments(directory)}
    indicators = {
        f"{pack}/{ident}"
        for pack, items in read_indicator_packs(indicator_dir).items()
        for ident in items
    }
    return [read_pack(path, departments, indicators) for path in plan_pack_paths(directory)]


def check_packs(
    directory: Path = PACKS_DIR, indicator_dir: Path = INDICATOR_PACKS_DIR
) -> list[str]:
    errors = _check_departments(directory)
    for pack in read_packs(directory, indicator_dir):
        errors.extend(pack.errors)
    return errors


def _check_departments(directory: Path) -> list[str]:
    errors, codes, aliases = [], set(), {}
    for number, item in enumerate(read_departments(directory), start=1):
        code = str(item.get("code") or "")
        if not code or code in codes:
            errors.append(
                f"{DEPARTMENTS_FILE}: department {number}: missing or duplicate code {code!r}"
            )
        codes.add(code)
        if not (item.get("name") or {}).get("zh"):
            errors.append(f"{DEPARTMENTS_FILE}: department {code}: no Chinese name")
        for alias in item.get("aliases") or []:
            if aliases.setdefault(alias, code) != code:
                errors.append(
                    f"{DEPARTMENTS_FILE}: alias {alias!r} names both {aliases[alias]} and {code}"
                )
    return errors


def parse_month_day(value: str, year: int) -> date:
    match = MONTH_DAY.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not MM-DD")
    return date(year, int(match[1]), int(match[2]))


class _Checker:
    def __init__(self, filename: str, data: dict, departments: set[str], indicators: set[str]):
        self.filename, self.data = filename, data
        self.departments, self.indicators = departments, indicators
        self.errors: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.errors.append(f"{self.filename}: {where}: {message}")

    def run(self) -> list[str]:
        data = self.data
        if data.get("plan") != Path(self.filename).stem:
            self.fail("plan", f"code {data.get('plan')!r} differs from the file name")
        for key in ("title", "source", "period"):
            if not data.get(key):
                self.fail(key, "missing")
        if not (data.get("title") or {}).get("zh"):
            self.fail("title", "no Chinese title")
        period = data.get("period") or {}
        self._dates("period", period.get("start"), period.get("end"))
        phases = self._phases(data.get("phases") or [])
        for item in data.get("reporting") or []:
            self._reporting(item)
        self._tasks(data.get("tasks") or [], phases)
        return self.errors

    def _dates(self, where: str, start, end, required: bool = True) -> None:
        for label, value in (("start", start), ("end", end)):
            if (value is not None or required) and not isinstance(value, date):
                self.fail(where, f"bad {label} date {value!r} (use YYYY-MM-DD)")
        if isinstance(start, date) and isinstance(end, date) and start > end:
            self.fail(where, f"starts {start} after it ends {end}")

    def _phases(self, phases: list[dict]) -> set[str]:
        codes: set[str] = set()
        for phase in phases:
            code = str(phase.get("code", ""))
            where = f"phase {code}"
            if code in codes:
                self.fail(where, "duplicate phase code")
            codes.add(code)
            self._dates(where, phase.get("start"), phase.get("end"))
            self._indicator(where, phase.get("indicator"))
        return codes

    def _reporting(self, item: dict) -> None:
        where = f"reporting {item.get('code', '?')}"
        if item.get("recurrence") == "yearly":
            for key in ("start", "due"):
                if key in item and not MONTH_DAY.match(str(item[key])):
                    self.fail(where, f'bad {key} {item[key]!r} (use "MM-DD")')
        elif not isinstance(item.get("date"), date):
            self.fail(where, f"bad date {item.get('date')!r} (use YYYY-MM-DD)")
        self._department_list(where, item.get("by") or [])
        self._indicator(where, item.get("indicator"))

    def _tasks(self, tasks: list[dict], phases: set[str]) -> None:
        if not tasks:
            self.fail("tasks", "no tasks")
        seen: set[str] = set()
        for task in tasks:
            number = str(task.get("number", "")).strip()
            where = f"task {number or '?'}"
            if not number:
                self.fail(where, "no number")
            elif number in seen:
                self.fail(where, "duplicate number")
            seen.add(number)
            self._task(where, task, phases)

    def _task(self, where: str, task: dict, phases: set[str]) -> None:
        if not (task.get("title") or {}).get("zh"):
            self.fail(where, "no Chinese title")
        if not task.get("source"):
            self.fail(where, "no source")
        if not task.get("lead"):
            self.fail(where, "no lead department")
        self._department_list(where, task.get("lead") or [])
        self._department_list(where, task.get("support") or [])
        if task.get("category", "task") not in CATEGORIES:
            self.fail(where, f"unknown category {task.get('category')!r}")
        if task.get("phase") is not None and task["phase"] not in phases:
            self.fail(where, f"unknown phase {task['phase']!r}")
        if "deadline" in task and not isinstance(task["deadline"], date):
            self.fail(where, f"bad deadline {task['deadline']!r} (use YYYY-MM-DD)")
        for milestone in task.get("milestones") or []:
            if not isinstance(milestone.get("due"), date):
                self.fail(where, f"milestone with bad due date {milestone.get('due')!r}")
            if not (milestone.get("title") or {}).get("zh"):
                self.fail(where, "milestone without a Chinese title")
            self._indicator(where, milestone.get("indicator"))
        for ref in task.get("indicators") or []:
            self._indicator(where, ref)

    def _department_list(self, where: str, codes: list) -> None:
        for code in codes:
            if code not in self.departments:
                self.fail(where, f"unknown department {code!r}")

    def _indicator(self, where: str, ref) -> None:
        if ref is not None and ref not in self.indicators:
            self.fail(where, f"unknown indicator {ref!r}")

"""The TCM-visit rule for HIS visits: the bureau's rules file (XINGLIN_TCM_VISIT_RULES, or the
packaged default), the definition it makes (care.tcm_visit), and the default column layout of
an HIS export."""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import yaml
from django.db.models import Q

from xinglin.care.models import Visit
from xinglin.care.tcm_visit import CONTENT, TcmVisitDefinition

DATA = Path(__file__).parent / "data"
RULES_ENV = "XINGLIN_TCM_VISIT_RULES"


@cache
def layout() -> dict[str, dict]:
    """The default column layout: field -> {header, zh, required, help}."""
    return yaml.safe_load((DATA / "visit_layout.yaml").read_text(encoding="utf-8"))["fields"]


def rules_path() -> Path:
    return Path(os.environ.get(RULES_ENV) or DATA / "tcm_visit_rules.yaml")


def tcm_rules() -> dict:
    """The bureau's TCM-visit rules (XINGLIN_TCM_VISIT_RULES) or the packaged default."""
    return _read_rules(str(rules_path()))


@cache
def _read_rules(path: str) -> dict:
    rules = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    rules.setdefault("rules", {})
    # department and diagnosis count only when the file says so; content always counts
    for key in ("department", "tcm_diagnosis"):
        rules["rules"].setdefault(key, {"enabled": False})
    for key in CONTENT:
        rules["rules"].setdefault(key, {"enabled": True})
    TcmVisitDefinition.from_rules(rules, path)  # RulesError naming the file
    return rules


def tolerance() -> float:
    return float(tcm_rules().get("comparison", {}).get("tolerance", 0.05))


def tcm_definition(rules: dict | None = None) -> TcmVisitDefinition:
    """The TCM-visit definition under `rules` (the bureau's, tcm_rules(), when None)."""
    return TcmVisitDefinition.from_rules(rules or tcm_rules())


def tcm_q(rules: dict | None = None, departments: Iterable[str] | None = None) -> Q:
    """The TCM-visit rule as a filter on Visit (operational database). `departments`: the
    department names to decide on (by default every name in the visits, when the rules count
    departments at all)."""
    definition = tcm_definition(rules)
    if definition.department is not None and departments is None:
        departments = Visit.objects.values_list("department", flat=True).distinct()
    return definition.q(departments or ())


def is_tcm_visit(department: str, has_tcm_diagnosis: bool, has_technique: bool,
                 has_herbal: bool, rules: dict | None = None) -> bool:  # fmt: skip
    """One visit under the rules (tcm_visit.TcmVisitDefinition.counts)."""
    return tcm_definition(rules).counts(
        department,
        has_tcm_diagnosis=has_tcm_diagnosis,
        has_technique=has_technique,
        has_herbal=has_herbal,
    )

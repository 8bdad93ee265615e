"""What a TCM visit (中医诊疗人次) is, written once.

The definition is by content (reference/public-health-tcm.md §C, 基层医疗卫生机构中医诊疗人次数:
"提供中医药服务的门诊人次，包括中药饮片处方数、非药物疗法诊疗人次数、中成药处方数"): a visit
with a decoction-pieces (中药饮片) or Chinese patent medicine (中成药) prescription, or a TCM
non-drug therapy (非药物疗法). The department seen and a TCM diagnosis alone count only when
the bureau's rules file switches them on, explicitly (`department` / `tcm_diagnosis`,
`enabled: true`).

Department names are matched by one stated rule (`department_counts`): the name and the
rule's words are compared after Unicode NFKC normalisation (full-width letters and digits
become half-width), case folding and removal of white space; a name counts when it equals one
of `names`, begins with one of `prefixes` (中医…, 中西医结合… so 中西医结合外科 counts) or
`code_prefixes` (诊疗科目 codes 50, 51, 52), or contains one of `contains`.

Every backend's form is derived from `TcmVisitDefinition`: `counts` (Python), `array` (numpy),
`q` (Django ORM: SQLite, PostgreSQL) and `sql` (SQLGlot, for SQLite, PostgreSQL and DuckDB
over the Parquet warehouse). The department part is decided in Python, once per distinct department name (or
its id in the warehouse), and reaches the databases only as `department IN (…)`: so no
backend's LIKE or collation (case-insensitive on SQLite, not on PostgreSQL) enters the rule.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import sqlglot.expressions as exp
from django.db.models import Q
from django.utils.translation import gettext as _

# The content flags of a stored visit (care.Visit and the warehouse's visits table) that make
# it a TCM visit by definition, and the rules-file key of each.
CONTENT = {"herbal_prescription": "has_herbal", "technique": "has_technique"}
DIAGNOSIS = ("tcm_diagnosis", "has_tcm_diagnosis")
DEPARTMENT_LISTS = ("names", "prefixes", "contains", "code_prefixes")


class RulesError(ValueError):
    """A TCM-visit rules file that does not say what the definition needs."""


def normalise(name: str) -> str:
    """A department name as the rule compares it: NFKC, case-folded, without white space."""
    return "".join(unicodedata.normalize("NFKC", name or "").casefold().split())


@dataclass(frozen=True)
class DepartmentRule:
    names: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()
    code_prefixes: tuple[str, ...] = ()

    def counts(self, department: str) -> bool:
        name = normalise(department)
        if not name:
            return False
        return (
            name in self.names
            or name.startswith(self.prefixes + self.code_prefixes)
            or any(word in name for word in self.contains)
        )


@dataclass(frozen=True)
class TcmVisitDefinition:
    """The rule as data: any of `flags` (boolean visit columns), or a department the
    `department` rule counts."""

    flags: tuple[str, ...]
    department: DepartmentRule | None = None

    @classmethod
    def from_rules(cls, rules: dict, source: str = "rules") -> TcmVisitDefinition:
        parts = (rules or {}).get("rules") or {}
        for key in CONTENT:
            if (parts.get(key) or {}).get("enabled", True) is False:
                raise RulesError(
                    f"{source}: rules.{key}: a TCM visit is defined by its content (中药饮片、"
                    f"中成药处方, 非药物疗法); this part cannot be switched off"
                )
        flags = list(CONTENT.values())
        if (parts.get(DIAGNOSIS[0]) or {}).get("enabled") is True:
            flags.append(DIAGNOSIS[1])
        department = parts.get("department") or {}
        rule = None
        if department.get("enabled") is True:
            lists = {key: [normalise(str(w)) for w in department.get(key) or []]
                     for key in DEPARTMENT_LISTS}  # fmt: skip
            rule = DepartmentRule(
                names=frozenset(w for w in lists["names"] if w),
                prefixes=tuple(w for w in lists["prefixes"] if w),
                contains=tuple(w for w in lists["contains"] if w),
                code_prefixes=tuple(w for w in lists["code_prefixes"] if w),
            )
        return cls(tuple(flags), rule)

    def description(self) -> list[str]:
        """What counts, in words, for the pages."""
        parts = [
            _("a decoction-pieces (中药饮片) or Chinese patent medicine (中成药) prescription"),
            _("a TCM non-drug therapy"),
        ]
        if DIAGNOSIS[1] in self.flags:
            parts.append(_("a TCM diagnosis alone (the bureau's rules)"))
        if self.department is not None:
            parts.append(_("a visit in a TCM department alone (the bureau's rules)"))
        return parts

    # ---- Python

    def counts(self, department: str, **flags: bool) -> bool:
        """One visit: `flags` by column name (has_herbal=…, has_technique=…, …)."""
        if any(flags.get(column) for column in self.flags):
            return True
        return self.department is not None and self.department.counts(department)

    def departments_counted(self, names: Iterable[str]) -> list[str]:
        """Those of `names` the department part counts (none when it is off)."""
        if self.department is None:
            return []
        return sorted({n for n in names if n is not None and self.department.counts(n)})

    def array(self, columns: dict, departments, counted=()):
        """The rule over numpy arrays: `columns` the flag columns by name, `departments` the
        department of each row (names or ids), `counted` the values the department part
        counts (departments_counted, or their ids)."""

        mask = np.zeros(len(departments), dtype=bool)
        for column in self.flags:
            mask |= np.asarray(columns[column], dtype=bool)
        values = list(counted)
        if values:
            mask |= np.isin(np.asarray(departments), values)
        return mask

    # ---- databases

    def q(self, departments: Iterable[str] = ()) -> Q:
        """The rule as a Django filter on care.Visit; `departments`: the department names
        present (only those the rule counts are kept)."""
        query = Q(pk__in=[])
        for column in self.flags:
            query |= Q(**{column: True})
        counted = self.departments_counted(departments)
        if counted:
            query |= Q(department__in=counted)
        return query

    def condition(self, department_column: str = "department", counted: Iterable = ()):
        """The rule as a SQLGlot boolean expression over the flag columns and
        `department_column IN (counted)` (names, or the warehouse's integer ids)."""
        parts: list[exp.Expression] = [exp.column(column) for column in self.flags]
        values = list(counted)
        if values:
            literals = [
                exp.Literal.number(v) if isinstance(v, int) else exp.Literal.string(str(v))
                for v in values
            ]
            parts.append(exp.column(department_column).isin(*literals))
        return exp.or_(*parts) if parts else exp.false()

    def sql(self, dialect: str, department_column: str = "department", counted=()) -> str:
        """`condition` written in `dialect` (sqlite, postgres, duckdb)."""
        return self.condition(department_column, counted).sql(dialect=dialect)

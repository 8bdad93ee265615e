"""The all-or-nothing import of hospital information system (HIS) exports: every row checked
(institution in scope, date, codes, techniques), then the visits of the file's institutions and
months replaced in one transaction. The import is the only place that walks rows.

The concerns around it each have their module: the TCM-visit rule and the layout
(visit_rules), code lists and technique names (visit_codes), reading files (visit_files),
column mappings (visit_mappings) and the figures derived for the engine (visit_figures).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter

from django.contrib.auth.models import User
from django.db import connection, transaction

from xinglin.care import personal_id
from xinglin.care.actions import CareError, RowError
from xinglin.care.models import (
    CodeSystem,
    Visit,
    VisitColumnMapping,
    VisitImport,
    VisitTechnique,
)
from xinglin.care.visit_codes import GBT15657, ICD10, known_codes, plain_name, technique_lookup
from xinglin.care.visit_files import read_numbered
from xinglin.care.visit_mappings import _Columns, columns_for
from xinglin.care.visit_rules import tcm_definition, tcm_rules
from xinglin.lib.bulk import insert_columns, widen_sqlite_cache
from xinglin.network.models import Kind, OrgUnit
from xinglin.standards.models import TechniqueItem

MAX_ERRORS_SHOWN = 200
SEPARATORS = re.compile(r"[;；,，、|]")
YES = {"1", "是", "y", "yes", "true", "有"}
NO = {"", "0", "否", "n", "no", "false", "无"}


@dataclass
class VisitImportResult:
    rows: int = 0
    tcm_visits: int = 0
    institutions: list[str] = field(default_factory=list)
    months: list[str] = field(default_factory=list)
    unknown_codes: int = 0
    replaced: int = 0  # visits of the same institution-months removed
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    batch: VisitImport | None = None


FIELDS = (
    "institution",
    "visit_date",
    "patient_id",
    "department",
    "diagnoses",
    "tcm_diagnoses",
    "techniques",
    "herbal",
)  # fmt: skip  (the order row errors are listed in)


@dataclass
class _Checked:
    """The visits of a file as columns (one list per stored field), and each row's
    technique items."""

    institution: list[int] = field(default_factory=list)
    visited_on: list[str] = field(default_factory=list)  # ISO dates
    month: list[str] = field(default_factory=list)
    department: list[str] = field(default_factory=list)
    patient_hash: list[str] = field(default_factory=list)
    patient_masked: list[str] = field(default_factory=list)
    diagnoses: list[str] = field(default_factory=list)
    tcm_diagnoses: list[str] = field(default_factory=list)
    techniques: list[str] = field(default_factory=list)
    has_tcm_diagnosis: list[bool] = field(default_factory=list)
    has_technique: list[bool] = field(default_factory=list)
    has_herbal: list[bool] = field(default_factory=list)
    items: list[tuple[int, ...]] = field(default_factory=list)  # technique item ids per row

    def __len__(self) -> int:
        return len(self.month)


class _ColumnChecker:
    """Checks an export column by column: each distinct cell text of a column is checked once
    (an export repeats its dates, departments, codes and techniques endlessly), then every
    row takes its column's verdict by lookup. A million rows stay a few seconds."""

    def __init__(self, columns: _Columns, mapping, allowed, rules: dict):
        self.at = columns.at
        self.fixed = columns.institution
        self.allowed = allowed
        self.techniques = technique_lookup(mapping.techniques if mapping else None)
        self.reject_unknown = rules.get("unknown_codes", "accept") == "reject"
        self.icd = known_codes(CodeSystem.ICD10)
        self.tcm = known_codes(CodeSystem.TCM_DISEASE) | known_codes(CodeSystem.TCM_SYNDROME)
        self.unknown = 0

    def check(
        self, numbers: list[int], rows: list[list[str]], progress=None
    ) -> tuple[_Checked, list[RowError]]:
        """The rows' stored values, or (when any row is wrong) the errors, by row and field.
        `progress(done, total)`: checking is the first half of an import's work."""
        width = 1 + max(i for i in self.at.values() if i is not None)
        rows = [row if len(row) >= width else row + [""] * (width - len(row)) for row in rows]
        verdicts = {}
        for done, name in enumerate(FIELDS, start=1):
            verdicts[name] = self._verdicts(name, self._column(rows, name))
            if progress:
                progress(len(rows) * done // len(FIELDS), 2 * len(rows))
        errors = self._errors(numbers, verdicts)
        if errors:
            return _Checked(), errors
        return self._values(verdicts), []

    def _column(self, rows: list[list[str]], name: str) -> list[str]:
        index = self.at[name]
        if index is None:
            return [""] * len(rows)
        return list(map(itemgetter(index), rows))

    def _verdicts(self, name: str, cells: list[str]) -> tuple[list[str], dict]:
        """(the column's cells, {distinct cell: (value, [error messages])})."""
        check = getattr(self, f"_{name}")
        verdicts = {text: check(text) for text in set(cells)}
        if name in ("diagnoses", "tcm_diagnoses"):
            unknown = {text: v[0][1] for text, v in verdicts.items() if v[0][1]}
            if unknown:
                self.unknown += sum(unknown.get(text, 0) for text in cells)
        return cells, verdicts

    @staticmethod
    def _errors(numbers: list[int], verdicts: dict) -> list[RowError]:
        found: list[tuple[int, int, str, str]] = []
        for order, name in enumerate(FIELDS):
            cells, checked = verdicts[name]
            wrong = {text: v[1] for text, v in checked.items() if v[1]}
            if not wrong:
                continue
            for at, text in enumerate(cells):
                for message in wrong.get(text, ()):
                    found.append((at, order, name, message))
        found.sort(key=lambda f: (f[0], f[1]))  # stable: a cell's messages keep their order
        return [RowError(numbers[at], name, message) for at, _order, name, message in found]

    @staticmethod
    def _values(verdicts: dict) -> _Checked:
        def values(name):
            cells, checked = verdicts[name]
            return [checked[text][0] for text in cells]

        checked = _Checked(institution=values("institution"), department=values("department"))
        days = values("visit_date")
        checked.visited_on = [d[0] for d in days]
        checked.month = [d[1] for d in days]
        patients = values("patient_id")
        checked.patient_hash = [p[0] for p in patients]
        checked.patient_masked = [p[1] for p in patients]
        diagnoses, tcm = values("diagnoses"), values("tcm_diagnoses")
        checked.diagnoses = [d[0] for d in diagnoses]
        checked.tcm_diagnoses = [d[0] for d in tcm]
        checked.has_tcm_diagnosis = [bool(d[0]) for d in tcm]
        techniques = values("techniques")
        checked.techniques = [t[0] for t in techniques]
        checked.items = [t[1] for t in techniques]
        checked.has_technique = [bool(t[1]) for t in techniques]
        checked.has_herbal = values("herbal")
        return checked

    # One distinct cell each: (value, [messages]).

    def _institution(self, text: str) -> tuple[int | None, list[str]]:
        if self.fixed is not None:
            return self.fixed.pk, []
        code = text.strip()
        found = OrgUnit.objects.filter(code=code, kind=Kind.INSTITUTION).first()
        if found is None:
            return None, [f"{code!r} is not a known institution"]
        if self.allowed is not None and not self.allowed(found):
            return None, [f"{code} is outside your scope"]
        return found.pk, []

    @staticmethod
    def _visit_date(text: str):
        text = text.strip()
        parsed = _parse_date(text)
        if parsed is None:
            return None, [f"{text!r} is not a date (YYYY-MM-DD)"]
        return (parsed[0].isoformat(), parsed[1]), []  # text: no date adapter per row

    @staticmethod
    def _patient_id(text: str):
        normal = personal_id.normalize(text.strip())
        if not normal or len(normal) > 64:
            return None, ["missing or longer than 64 characters"]
        return (personal_id.hash_id(normal), personal_id.mask(normal)[:32]), []

    @staticmethod
    def _department(text: str):
        department = text.strip()
        return department, (["longer than 60 characters"] if len(department) > 60 else [])

    def _diagnoses(self, text: str):
        return self._codes(text, ICD10, self.icd)

    def _tcm_diagnoses(self, text: str):
        return self._codes(text, GBT15657, self.tcm)

    def _codes(self, text: str, pattern, known) -> tuple[tuple[str, int], list[str]]:
        """((the codes joined by ";", how many are not on the lists), messages)."""
        codes = [c.strip().upper() for c in SEPARATORS.split(text.strip()) if c.strip()]
        messages, unknown = [], 0
        for code in codes:
            if not pattern.match(code):
                messages.append(f"{code!r} is not a well-formed code")
            elif known and code not in known and code[:3] not in known:
                if self.reject_unknown:
                    messages.append(f"{code!r} is not on the code list")
                unknown += 1
        return (";".join(codes)[:200], unknown), messages

    def _techniques(self, text: str) -> tuple[tuple[str, tuple[int, ...]], list[str]]:
        """((item codes joined by ";", item ids), messages)."""
        items: list[TechniqueItem] = []
        messages = []
        for name in (n.strip() for n in SEPARATORS.split(text.strip()) if n.strip()):
            item = self.techniques.get(plain_name(name)) or self.techniques.get(name.lower())
            if item is None:
                messages.append(f"unknown technique {name!r}: "
                                "add it to the institution's column mapping")  # fmt: skip
            elif item not in items:
                items.append(item)
        codes = ";".join(i.code for i in items)[:400]
        return (codes, tuple(i.pk for i in items)), messages

    @staticmethod
    def _herbal(text: str) -> tuple[bool, list[str]]:
        herbal = text.strip().lower()
        if herbal not in YES and herbal not in NO and not herbal.isdigit():
            return False, [f"{herbal!r} is not 1/0, 是/否 or a count"]
        return herbal in YES or (herbal.isdigit() and int(herbal) > 0), []


def _parse_date(text: str) -> tuple[date, str] | None:
    text = text.strip()[:10].replace("/", "-").replace(".", "-")
    if len(text) >= 8 and text[:8].isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:8]}"
    try:
        parts = [int(p) for p in text.split("-")]
        day = date(*parts)
    except (TypeError, ValueError):
        return None
    return day, f"{day.year}{day.month:02d}"


def import_visits(
    name: str,
    content: bytes,
    *,
    mapping: VisitColumnMapping | None = None,
    user: User | None = None,
    allowed: Callable[[OrgUnit], bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> VisitImportResult:
    """Import an HIS export, all or nothing: any row error writes nothing and the result names
    each row and column. The visits replace those already stored for the same institutions
    and months, so a corrected export can be imported again. `allowed(institution)` limits
    the institutions the user may import for. `progress(done, total)` follows the checking
    (first half) and the writing."""
    numbered = read_numbered(name, content)
    header = next(numbered, None)
    if header is None:
        raise CareError(f"{name} is empty")
    rules = tcm_rules()
    checker = _ColumnChecker(columns_for(header[1], mapping), mapping, allowed, rules)
    numbers, rows = [], []
    for number, row in numbered:
        numbers.append(number)
        rows.append(row)
    if not rows:
        raise CareError(f"{name} holds no visits")
    checked, errors = checker.check(numbers, rows, progress)
    del rows
    result = VisitImportResult()
    result.unknown_codes = checker.unknown
    result.error_count = len(errors)
    result.errors = errors[:MAX_ERRORS_SHOWN]
    if errors:
        return result
    _store(name, checked, user, result, progress)
    result.tcm_visits = _count_tcm(checked, rules)
    return result


def _count_tcm(checked: _Checked, rules: dict) -> int:
    kinds = Counter(zip(checked.department, checked.has_tcm_diagnosis, checked.has_technique,
                        checked.has_herbal, strict=True))  # fmt: skip
    definition = tcm_definition(rules)
    return sum(
        count
        for (department, diagnosis, technique, herbal), count in kinds.items()
        if definition.counts(department, has_tcm_diagnosis=diagnosis, has_technique=technique,
                             has_herbal=herbal)
    )  # fmt: skip


def _store(name: str, checked: _Checked, user, result: VisitImportResult, progress) -> None:
    pairs: dict[int, set[str]] = {}
    for unit, month in set(zip(checked.institution, checked.month, strict=True)):
        pairs.setdefault(unit, set()).add(month)
    # The rows' institutions were looked up and the batch is new: SQLite's per-row foreign-key
    # checks would only double the insert time (a no-op inside an outer transaction and on
    # PostgreSQL).
    with connection.constraint_checks_disabled(), transaction.atomic():
        widen_sqlite_cache(len(checked))
        for unit, months in pairs.items():
            old = Visit.objects.filter(institution_id=unit, month__in=months)
            result.replaced += old.count()
            VisitTechnique.objects.filter(institution_id=unit, month__in=months).delete()
            old.delete()  # one DELETE: nothing refers to a visit
        codes = dict(OrgUnit.objects.filter(pk__in=pairs).values_list("pk", "code"))
        batch = VisitImport.objects.create(
            file_name=name[:200],
            rows=len(checked),
            months=sorted({m for ms in pairs.values() for m in ms}),
            institutions=sorted(codes.values()),
            imported_by=user,
        )
        columns = {"batch_id": batch.pk, "institution_id": checked.institution}
        columns.update({c: getattr(checked, c) for c in VISIT_COLUMNS[1:]})
        writing = progress and (lambda done, total: progress(total + done, 2 * total))
        insert_columns(Visit, columns, writing)
        used = [(u, m, i) for u, m, items in zip(checked.institution, checked.month,
                checked.items, strict=True) for i in items]  # fmt: skip
        if used:
            insert_columns(VisitTechnique, {
                "batch_id": batch.pk,
                "institution_id": [u[0] for u in used],
                "month": [u[1] for u in used],
                "item_id": [u[2] for u in used],
            })  # fmt: skip
    result.batch = batch
    result.rows = len(checked)
    result.institutions = batch.institutions
    result.months = batch.months


# The stored columns, named as _Checked names them (institution is institution_id).
VISIT_COLUMNS = ("institution", "visited_on", "month", "department", "patient_hash",
                 "patient_masked", "diagnoses", "tcm_diagnoses", "techniques",
                 "has_tcm_diagnosis", "has_technique", "has_herbal")  # fmt: skip

"""Visits from hospital information system (HIS) exports: the column layout and per-institution
mappings, the TCM-visit rules, code lists, the all-or-nothing import, and the figures derived
from the records (total_visits, tcm_visits, techniques delivered) for the engine.

Figures are set-based (GROUP BY on the operational database, or on DuckDB over Parquet through
xinglin.warehouse for large volumes); the import is the only place that walks rows, to check
them.
"""

from __future__ import annotations

import csv
import io
import os
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from operator import itemgetter
from pathlib import Path
from xml.etree.ElementTree import ParseError

import yaml
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Count, Q

from xinglin.care import personal_id
from xinglin.care.actions import CareError, RowError
from xinglin.care.models import (
    CodeSystem,
    DiagnosisCode,
    Visit,
    VisitColumnMapping,
    VisitImport,
    VisitTechnique,
)
from xinglin.care.tcm_visit import CONTENT, TcmVisitDefinition
from xinglin.collection.models import DeliveredTechnique, TechniqueSource
from xinglin.evaluation.actions import replace_derived_values
from xinglin.lib import cells, uploads
from xinglin.lib.bulk import insert_columns, widen_sqlite_cache
from xinglin.lib.text import decode_text
from xinglin.network.models import Kind, OrgUnit
from xinglin.standards.models import TechniqueItem

DATA = Path(__file__).parent / "data"
SOURCE = "care.visits"  # the engine's name for figures derived here
RULES_ENV = "XINGLIN_TCM_VISIT_RULES"
MAX_ERRORS_SHOWN = 200
SEPARATORS = re.compile(r"[;；,，、|]")
ICD10 = re.compile(r"^[A-Z]\d{2}(\.[0-9A-Z]{1,4})?[+*]?$")
GBT15657 = re.compile(r"^[AB]\d{2}(\.\d{2})*\.?$")
YES = {"1", "是", "y", "yes", "true", "有"}
NO = {"", "0", "否", "n", "no", "false", "无"}
Row = tuple[str, str, str, float]


# ---------------------------------------------------------------------------
# Data: layout, rules, technique names, code lists
# ---------------------------------------------------------------------------


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


def _plain(name: str) -> str:
    """A technique name without the bracketed part and spaces: 拔罐（火罐） -> 拔罐."""
    return re.sub(r"[（(].*?[)）]", "", name).replace(" ", "").strip().lower()


def technique_lookup(extra: dict[str, str] | None = None) -> dict[str, TechniqueItem]:
    """Name or code as written in an export -> catalogue item. Later sources win: catalogue
    codes and names, data/technique_aliases.yaml, then the institution's own names."""
    items = {item.code: item for item in TechniqueItem.objects.select_related("category")}
    lookup: dict[str, TechniqueItem] = {}
    for item in items.values():
        lookup[item.code.lower()] = item
        lookup[_plain(item.name_zh)] = item
        lookup[item.name_zh.replace(" ", "").lower()] = item
    aliases = yaml.safe_load((DATA / "technique_aliases.yaml").read_text(encoding="utf-8"))
    for source in (aliases["aliases"], extra or {}):
        for name, code in source.items():
            if code in items:
                lookup[_plain(name)] = items[code]
    return lookup


def known_codes(system: str) -> set[str]:
    return set(DiagnosisCode.objects.filter(system=system).values_list("code", flat=True))


# ---------------------------------------------------------------------------
# Code lists
# ---------------------------------------------------------------------------

CODE_HEADERS = {"code": "code", "编码": "code", "代码": "code", "疾病编码": "code",
                "name": "name", "名称": "name", "disease": "name", "疾病名称": "name",
                "中文名称": "name", "诊断名称": "name"}  # fmt: skip
DEFAULT_CODE_FILES = [
    ("icd10_cn_categories_chaseliu.tsv", CodeSystem.ICD10),
    ("gbt15657_disease_sample.csv", CodeSystem.TCM_DISEASE),
    ("gbt15657_syndrome_sample.csv", CodeSystem.TCM_SYNDROME),
]


def load_codes(path: Path, system: str, *, replace: bool = False) -> int:
    """Load a code list (CSV/TSV/xlsx with code,name columns) into `system`; rows with a code
    already there update its name. `replace` first removes the system's other codes.
    CareError names the row of a bad line; nothing is written then."""
    if system not in CodeSystem.values:
        raise CareError(f"unknown code system {system!r}: {', '.join(CodeSystem.values)}")
    pattern = ICD10 if system == CodeSystem.ICD10 else GBT15657
    rows = iter(read_table(path.name, path.read_bytes()))
    header = [CODE_HEADERS.get(h.strip().lower(), h.strip().lower()) for h in next(rows, [])]
    if "code" not in header or "name" not in header:
        raise CareError(f"{path.name}, row 1: the columns code and name are required")
    at_code, at_name = header.index("code"), header.index("name")
    codes: dict[str, str] = {}
    for number, row in enumerate(rows, start=2):
        code = row[at_code].strip().upper() if len(row) > at_code else ""
        name = row[at_name].strip() if len(row) > at_name else ""
        if not pattern.match(code) or not name:
            raise CareError(
                f"{path.name}, row {number}: {code!r} is not a {system} code with a name"
            )
        codes[code] = name[:200]
    with transaction.atomic():
        if replace:
            DiagnosisCode.objects.filter(system=system).exclude(code__in=codes).delete()
        existing = set(DiagnosisCode.objects.filter(system=system).values_list("code", flat=True))
        DiagnosisCode.objects.bulk_create(
            [DiagnosisCode(system=system, code=c, name=n, source=path.name)
             for c, n in codes.items() if c not in existing],
            batch_size=2000,
        )  # fmt: skip
        changed = [
            DiagnosisCode(system=system, code=c, name=n, source=path.name)
            for c, n in codes.items() if c in existing
        ]  # fmt: skip
        for code in changed:
            DiagnosisCode.objects.filter(system=system, code=code.code).update(
                name=code.name, source=code.source
            )
    return len(codes)


def load_default_codes() -> int:
    return sum(load_codes(DATA / "codes" / name, system) for name, system in DEFAULT_CODE_FILES)


# ---------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------


def read_table(name: str, content: bytes) -> Iterator[list[str]]:
    """Rows of a .csv/.tsv (UTF-8 or GBK) or .xlsx file as lists of strings, blank rows
    skipped."""
    for _number, row in read_numbered(name, content):
        yield row


def read_numbered(name: str, content: bytes) -> Iterator[tuple[int, list[str]]]:
    """(row number in the file, cells) of each row that is not blank: the numbers a person
    sees in a spreadsheet or an editor, so an error's row can be found."""
    if name.lower().endswith(".xlsx"):
        yield from _xlsx_rows(name, content)
        return
    text = decode_text(content)
    if text is None:
        raise CareError(f"{name} is neither UTF-8 nor GBK text")
    delimiter = "\t" if name.lower().endswith(".tsv") else ","
    text = text.replace("\x00", "")  # never meaningful; PostgreSQL refuses it (fuzzing)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1  # the line a record starts on (a quoted field may span lines)
    try:
        for row in uploads.csv_rows(reader, name):
            if row and (row[0] or any(row)):
                yield start, row
            start = reader.line_num + 1
    except csv.Error as error:  # e.g. a stray carriage return inside a field (fuzzing)
        raise CareError(f"{name} is not a readable CSV file ({error})") from error
    except uploads.TooLarge as error:
        raise CareError(str(error)) from None


def _xlsx_rows(name: str, content: bytes) -> Iterator[tuple[int, list[str]]]:
    from zipfile import BadZipFile

    try:
        rows = uploads.workbook_rows(content, name)
    except uploads.TooLarge as error:
        raise CareError(str(error)) from None
    except (BadZipFile, KeyError, OSError, ValueError, EOFError, zlib.error, ParseError) as error:
        # zlib.error, EOFError: a damaged zip, at load or while rows are read (fuzzing).
        raise CareError(f"{name} is not an Excel workbook ({error})") from error
    for number, row in enumerate(rows, start=1):
        cells = [_cell(c) for c in row]
        if any(cells):
            yield number, cells


def _cell(value) -> str:
    return cells.cell_text(value)


# ---------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------


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


@dataclass
class _Columns:
    """Where each layout field is in the file (None = absent), and the constant institution of
    a mapping without an institution column."""

    at: dict[str, int | None]
    institution: OrgUnit | None = None


def columns_for(header: list[str], mapping: VisitColumnMapping | None) -> _Columns:
    """Locate the layout's fields in a header row. With a mapping, its headers; without one,
    the layout's English or Chinese headers. CareError when a required column is missing."""
    names = [h.strip() for h in header]
    at: dict[str, int | None] = {}
    missing = []
    for name, spec in layout().items():
        wanted = [mapping.columns.get(name, "")] if mapping else [spec["header"], spec["zh"]]
        found = next((names.index(w) for w in wanted if w and w in names), None)
        at[name] = found
        if found is None and spec["required"]:
            if name == "institution" and mapping is not None:
                continue
            missing.append(wanted[0] or name)
    if missing:
        raise CareError(f"row 1: missing columns {', '.join(missing)}")
    institution = mapping.institution if mapping and at["institution"] is None else None
    return _Columns(at, institution)


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
            item = self.techniques.get(_plain(name)) or self.techniques.get(name.lower())
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


def save_mapping(
    institution: OrgUnit, columns: dict[str, str], techniques: dict[str, str], user=None
) -> VisitColumnMapping:
    """Save the institution's column mapping. CareError when a technique name maps to a code
    that is not in the catalogue or a required column is left unnamed."""
    known = set(TechniqueItem.objects.values_list("code", flat=True))
    wrong = sorted(code for code in techniques.values() if code not in known)
    if wrong:
        raise CareError(f"not catalogue technique codes: {', '.join(wrong)}")
    missing = [n for n, s in layout().items()
               if s["required"] and n != "institution" and not columns.get(n)]  # fmt: skip
    if missing:
        raise CareError(f"name the export's column for: {', '.join(missing)}")
    mapping, _created = VisitColumnMapping.objects.update_or_create(
        institution=institution,
        defaults={"columns": {k: v for k, v in columns.items() if v},
                  "techniques": techniques, "updated_by": user},
    )  # fmt: skip
    return mapping


# ---------------------------------------------------------------------------
# Figures for the engine
# ---------------------------------------------------------------------------


def year_months(year: int) -> list[str]:
    return [f"{year}{m:02d}" for m in range(1, 13)]


def visit_figures(
    months: list[str], units: Q | None = None, rules: dict | None = None
) -> list[tuple[str, str, int, int]]:
    """(institution code, month, total visits, TCM visits) from the operational database,
    under `rules` (tcm_rules() when None)."""
    visits = Visit.objects.filter(month__in=months)
    if units is not None:
        visits = visits.filter(units)
    departments = None
    if tcm_definition(rules).department is not None:
        departments = visits.values_list("department", flat=True).distinct()
    grouped = (
        visits.values("institution__code", "month")
        .annotate(total=Count("id"), tcm=Count("id", filter=tcm_q(rules, departments)))
        .order_by("institution__code", "month")
    )
    return [(g["institution__code"], g["month"], g["total"], g["tcm"]) for g in grouped]


def delivered_techniques(months: list[str]) -> list[tuple[str, str, str]]:
    """Distinct (institution code, month, item code) from the operational database."""
    grouped = (
        VisitTechnique.objects.filter(month__in=months)
        .values_list("institution__code", "month", "item__code")
        .distinct()
        .order_by("institution__code", "month", "item__code")
    )
    return list(grouped)


def engine_rows(figures: Iterable[tuple[str, str, int, int]]) -> list[Row]:
    rows: list[Row] = []
    for code, month, total, tcm in figures:
        rows += [
            ("total_visits", code, month, float(total)),
            ("tcm_visits", code, month, float(tcm)),
        ]
    return rows


@dataclass
class Derived:
    figures: int  # engine rows written
    techniques: int  # DeliveredTechnique rows written
    engine: str


def derive_visit_figures(year: int, *, warehouse=None) -> Derived:
    """Hand the year's record-derived total_visits / tcm_visits (per institution and month) to
    the engine and replace the techniques delivered with source "records". With `warehouse`
    (an xinglin.warehouse.Warehouse), the figures come from its Parquet copy instead of the
    operational database."""

    months = year_months(year)
    if warehouse is None:
        figures, delivered = visit_figures(months), delivered_techniques(months)
    else:
        from xinglin.care import visit_warehouse as stored

        figures = stored.visit_figures(warehouse, months)
        delivered = stored.delivered_techniques(warehouse, months)
    units = dict(
        OrgUnit.objects.filter(code__in={d[0] for d in delivered}).values_list("code", "pk")
    )
    items = dict(TechniqueItem.objects.values_list("code", "pk"))
    with transaction.atomic():
        written = replace_derived_values(SOURCE, engine_rows(figures), months)
        DeliveredTechnique.objects.filter(
            source=TechniqueSource.RECORDS, period__in=months
        ).delete()
        DeliveredTechnique.objects.bulk_create(
            [DeliveredTechnique(orgunit_id=units[u], period=m, item_id=items[i],
                                source=TechniqueSource.RECORDS) for u, m, i in delivered],
            batch_size=5000,
        )  # fmt: skip
    return Derived(written, len(delivered), "warehouse" if warehouse else "database")

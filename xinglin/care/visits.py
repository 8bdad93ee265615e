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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path

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
from xinglin.lib.text import decode_text
from xinglin.network.models import Kind, OrgUnit
from xinglin.standards.models import TechniqueItem

DATA = Path(__file__).parent / "data"
SOURCE = "care.visits"  # the engine's name for figures derived here
RULES_ENV = "XINGLIN_TCM_VISIT_RULES"
BATCH = 50_000  # rows per executemany
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
    rules = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    for key in ("department", "tcm_diagnosis", "technique", "herbal_prescription"):
        rules["rules"].setdefault(key, {"enabled": False})
    return rules


def tolerance() -> float:
    return float(tcm_rules().get("comparison", {}).get("tolerance", 0.05))


def tcm_q(rules: dict | None = None) -> Q:
    """The TCM-visit rule as a filter on Visit (operational database)."""
    rules = (rules or tcm_rules())["rules"]
    query = Q(pk__in=[])
    department = rules["department"]
    if department.get("enabled"):
        query |= Q(department__in=department.get("names", []))
        for word in department.get("contains", []):
            query |= Q(department__contains=word)
        for prefix in department.get("code_prefixes", []):
            query |= Q(department__startswith=prefix)
    flags = {"tcm_diagnosis": "has_tcm_diagnosis", "technique": "has_technique",
             "herbal_prescription": "has_herbal"}  # fmt: skip
    for rule, column in flags.items():
        if rules[rule].get("enabled"):
            query |= Q(**{column: True})
    return query


def tcm_sql(rules: dict | None = None) -> tuple[str, list]:
    """The same rule as tcm_q, as SQL with `?` parameters over the warehouse's visits table."""
    rules = (rules or tcm_rules())["rules"]
    parts, params = ["FALSE"], []
    department = rules["department"]
    if department.get("enabled"):
        names = department.get("names", [])
        if names:
            parts.append(f"department IN ({', '.join('?' * len(names))})")
            params += names
        for word in department.get("contains", []):
            parts.append("contains(department, ?)")
            params.append(word)
        for prefix in department.get("code_prefixes", []):
            parts.append("starts_with(department, ?)")
            params.append(prefix)
    flags = {"tcm_diagnosis": "has_tcm_diagnosis", "technique": "has_technique",
             "herbal_prescription": "has_herbal"}  # fmt: skip
    parts += [column for rule, column in flags.items() if rules[rule].get("enabled")]
    return "(" + " OR ".join(parts) + ")", params


def is_tcm_visit(department: str, has_tcm_diagnosis: bool, has_technique: bool,
                 has_herbal: bool, rules: dict | None = None) -> bool:  # fmt: skip
    """One visit under the rules (for display and for tests' independent counts)."""
    rules = (rules or tcm_rules())["rules"]
    department_rule = rules["department"]
    if department_rule.get("enabled") and (
        department in department_rule.get("names", [])
        or any(w in department for w in department_rule.get("contains", []))
        or any(department.startswith(p) for p in department_rule.get("code_prefixes", []))
    ):
        return True
    return (
        (rules["tcm_diagnosis"].get("enabled") and has_tcm_diagnosis)
        or (rules["technique"].get("enabled") and has_technique)
        or (rules["herbal_prescription"].get("enabled") and has_herbal)
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
    if name.lower().endswith(".xlsx"):
        yield from _xlsx_rows(name, content)
        return
    text = decode_text(content)
    if text is None:
        raise CareError(f"{name} is neither UTF-8 nor GBK text")
    delimiter = "\t" if name.lower().endswith(".tsv") else ","
    text = text.replace("\x00", "")  # never meaningful; PostgreSQL refuses it (fuzzing)
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            if any(row):
                yield row
    except csv.Error as error:  # e.g. a stray carriage return inside a field (fuzzing)
        raise CareError(f"{name} is not a readable CSV file ({error})") from error


def _xlsx_rows(name: str, content: bytes) -> Iterator[list[str]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        for row in book.worksheets[0].iter_rows(values_only=True):
            cells = [_cell(c) for c in row]
            if any(cells):
                yield cells
    except (BadZipFile, KeyError, OSError, ValueError, EOFError, zlib.error) as error:
        # zlib.error, EOFError: a damaged zip, at load or while rows are read (fuzzing).
        raise CareError(f"{name} is not an Excel workbook ({error})") from error


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


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


class _RowChecker:
    """Turns one export row into the values stored, or row errors. Caches what repeats
    (dates, patients, institutions) so that a million rows stay fast."""

    def __init__(self, columns: _Columns, mapping, allowed, rules: dict):
        self.at = columns.at
        self.fixed = columns.institution
        self.allowed = allowed
        self.techniques = technique_lookup(mapping.techniques if mapping else None)
        self.reject_unknown = rules.get("unknown_codes", "accept") == "reject"
        self.icd = known_codes(CodeSystem.ICD10)
        self.tcm = known_codes(CodeSystem.TCM_DISEASE) | known_codes(CodeSystem.TCM_SYNDROME)
        self.units: dict[str, OrgUnit | str] = {}
        self.dates: dict[str, tuple[date, str] | None] = {}
        self.patients: dict[str, tuple[str, str]] = {}
        self.unknown = 0

    def _get(self, row: list[str], name: str) -> str:
        index = self.at[name]
        return row[index].strip() if index is not None and index < len(row) else ""

    def check(self, number: int, row: list[str], errors: list[RowError]):
        failed = len(errors)
        unit = self._institution(number, row, errors)
        day = self._date(number, self._get(row, "visit_date"), errors)
        patient = self._patient(number, self._get(row, "patient_id"), errors)
        department = self._get(row, "department")
        if len(department) > 60:
            errors.append(RowError(number, "department", "longer than 60 characters"))
        diagnoses = self._codes(number, "diagnoses", row, ICD10, self.icd, errors)
        tcm_diagnoses = self._codes(number, "tcm_diagnoses", row, GBT15657, self.tcm, errors)
        items = self._techniques(number, self._get(row, "techniques"), errors)
        herbal = self._get(row, "herbal").lower()
        if herbal not in YES and herbal not in NO and not herbal.isdigit():
            errors.append(RowError(number, "herbal", f"{herbal!r} is not 1/0, 是/否 or a count"))
        if len(errors) > failed:
            return None
        has_herbal = herbal in YES or (herbal.isdigit() and int(herbal) > 0)
        codes = ";".join(i.code for i in items)
        return (unit.pk, day[0], day[1], department, *patient, diagnoses, tcm_diagnoses,
                codes[:400], bool(tcm_diagnoses), bool(items), has_herbal), items  # fmt: skip

    def _institution(self, number, row, errors) -> OrgUnit | None:
        if self.fixed is not None:
            return self.fixed
        code = self._get(row, "institution")
        unit = self.units.get(code)
        if unit is None:
            found = OrgUnit.objects.filter(code=code, kind=Kind.INSTITUTION).first()
            if found is None:
                unit = f"{code!r} is not a known institution"
            elif self.allowed is not None and not self.allowed(found):
                unit = f"{code} is outside your scope"
            else:
                unit = found
            self.units[code] = unit
        if isinstance(unit, str):
            errors.append(RowError(number, "institution", unit))
            return None
        return unit

    def _date(self, number, text, errors):
        if text not in self.dates:
            self.dates[text] = _parse_date(text)
        parsed = self.dates[text]
        if parsed is None:
            errors.append(RowError(number, "visit_date", f"{text!r} is not a date (YYYY-MM-DD)"))
        return parsed

    def _patient(self, number, text, errors) -> tuple[str, str]:
        if text in self.patients:
            return self.patients[text]
        normal = personal_id.normalize(text)
        if not normal or len(normal) > 64:
            errors.append(RowError(number, "patient_id", "missing or longer than 64 characters"))
            return ("", "")
        pair = (personal_id.hash_id(normal), personal_id.mask(normal)[:32])
        self.patients[text] = pair
        return pair

    def _codes(self, number, column, row, pattern, known, errors) -> str:
        text = self._get(row, column)
        if not text:
            return ""
        codes = [c.strip().upper() for c in SEPARATORS.split(text) if c.strip()]
        for code in codes:
            if not pattern.match(code):
                errors.append(RowError(number, column, f"{code!r} is not a well-formed code"))
            elif known and code not in known and code[:3] not in known:
                if self.reject_unknown:
                    errors.append(RowError(number, column, f"{code!r} is not on the code list"))
                self.unknown += 1
        return ";".join(codes)[:200]

    def _techniques(self, number, text, errors) -> list[TechniqueItem]:
        items = []
        for name in (n.strip() for n in SEPARATORS.split(text) if n.strip()):
            item = self.techniques.get(_plain(name)) or self.techniques.get(name.lower())
            if item is None:
                errors.append(RowError(number, "techniques", f"unknown technique {name!r}: "
                                       "add it to the institution's column mapping"))  # fmt: skip
            elif item not in items:
                items.append(item)
        return items


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
    the institutions the user may import for."""
    rows = read_table(name, content)
    header = next(rows, None)
    if header is None:
        raise CareError(f"{name} is empty")
    rules = tcm_rules()
    checker = _RowChecker(columns_for(header, mapping), mapping, allowed, rules)
    result = VisitImportResult()
    visits, techniques, errors = [], [], []
    for number, row in enumerate(rows, start=2):
        checked = checker.check(number, row, errors)
        if checked is not None:
            visits.append(checked[0])
            techniques.extend((number - 2, item.pk) for item in checked[1])
        if progress and number % 100_000 == 0:
            progress(number, 0)
    result.unknown_codes = checker.unknown
    result.error_count = len(errors)
    result.errors = errors[:MAX_ERRORS_SHOWN]
    if errors or not visits:
        if not visits and not errors:
            raise CareError(f"{name} holds no visits")
        return result
    _store(name, visits, techniques, user, result, progress)
    return result


def _store(name, visits, techniques, user, result, progress) -> None:
    pairs: dict[int, set[str]] = {}
    for visit in visits:
        pairs.setdefault(visit[0], set()).add(visit[2])
    # The rows' institutions were looked up and the batch is new: SQLite's per-row foreign-key
    # checks would only double the insert time (a no-op inside an outer transaction and on
    # PostgreSQL).
    with connection.constraint_checks_disabled(), transaction.atomic():
        for unit, months in pairs.items():
            old = Visit.objects.filter(institution_id=unit, month__in=months)
            result.replaced += old.count()
            VisitTechnique.objects.filter(institution_id=unit, month__in=months).delete()
            old.delete()  # one DELETE: nothing refers to a visit
        codes = dict(OrgUnit.objects.filter(pk__in=pairs).values_list("pk", "code"))
        batch = VisitImport.objects.create(
            file_name=name[:200],
            rows=len(visits),
            months=sorted({m for ms in pairs.values() for m in ms}),
            institutions=sorted(codes.values()),
            imported_by=user,
        )
        _insert_visits(batch.pk, visits, progress)
        _insert_techniques(batch.pk, visits, techniques)
    result.batch = batch
    result.rows = len(visits)
    result.institutions = batch.institutions
    result.months = batch.months
    rules = tcm_rules()
    result.tcm_visits = sum(1 for v in visits if is_tcm_visit(v[3], v[9], v[10], v[11], rules))


VISIT_COLUMNS = ("batch_id", "institution_id", "visited_on", "month", "department",
                 "patient_hash", "patient_masked", "diagnoses", "tcm_diagnoses", "techniques",
                 "has_tcm_diagnosis", "has_technique", "has_herbal")  # fmt: skip


def _insert_visits(batch_id: int, visits: list[tuple], progress) -> None:
    # executemany in large batches: bulk_create builds a model object per row, which alone
    # would take most of the 30-second budget for a million rows.
    table = Visit._meta.db_table
    marks = ", ".join(["%s"] * len(VISIT_COLUMNS))
    sql = f"INSERT INTO {table} ({', '.join(VISIT_COLUMNS)}) VALUES ({marks})"
    with connection.cursor() as cursor:
        for start in range(0, len(visits), BATCH):
            chunk = visits[start : start + BATCH]
            cursor.executemany(sql, [(batch_id, *v) for v in chunk])
            if progress:
                progress(start + len(chunk), len(visits))


def _insert_techniques(batch_id: int, visits: list[tuple], techniques: list[tuple]) -> None:
    table = VisitTechnique._meta.db_table
    sql = f"INSERT INTO {table} (batch_id, institution_id, month, item_id) VALUES (%s, %s, %s, %s)"
    rows = [(batch_id, visits[i][0], visits[i][2], item) for i, item in techniques]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, rows[start : start + BATCH])


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


def visit_figures(months: list[str], units: Q | None = None) -> list[tuple[str, str, int, int]]:
    """(institution code, month, total visits, TCM visits) from the operational database."""
    visits = Visit.objects.filter(month__in=months)
    if units is not None:
        visits = visits.filter(units)
    grouped = (
        visits.values("institution__code", "month")
        .annotate(total=Count("id"), tcm=Count("id", filter=tcm_q()))
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
    from xinglin.collection.models import DeliveredTechnique, TechniqueSource
    from xinglin.evaluation.actions import replace_derived_values

    months = year_months(year)
    if warehouse is None:
        figures, delivered = visit_figures(months), delivered_techniques(months)
    else:
        from xinglin.warehouse import visits as stored

        figures = stored.visit_figures(warehouse, months, tcm_sql())
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

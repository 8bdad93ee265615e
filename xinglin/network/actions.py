"""Changes to the service network. Views, commands, the API and tests call these."""

from __future__ import annotations

import csv
import io
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from xml.etree.ElementTree import ParseError
from zipfile import BadZipFile

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.worksheet.datavalidation import DataValidation

from xinglin.core.models import EventKind
from xinglin.core.security import record_event
from xinglin.lib import cells, sheets, uploads
from xinglin.lib.text import decode_text
from xinglin.network.models import (
    BEGINNING,
    CHANGE_FIELD_LABELS,
    OWNERSHIP_WORDS,
    ROLE_SEPARATOR,
    ROLE_WORDS,
    DivisionLevel,
    InstitutionRole,
    InstitutionType,
    Kind,
    Membership,
    OrgUnit,
    OrgUnitChange,
    OrgUnitHistory,
    Ownership,
    Role,
    join_roles,
)

DIVISIONS_DIR = Path(__file__).parent / "data" / "divisions"
# (file, level, parent column): the NBS statistical division files, top-down.
_DIVISION_FILES = (
    ("provinces.csv", DivisionLevel.PROVINCE, None),
    ("cities.csv", DivisionLevel.CITY, "provinceCode"),
    ("areas.csv", DivisionLevel.COUNTY, "cityCode"),
    ("streets.csv", DivisionLevel.TOWNSHIP, "areaCode"),
)
INSTITUTION_COLUMNS = ("code", "name", "type", "parent")
# Optional: left out, an institution keeps its ownership and roles (new ones: public, none).
OPTIONAL_INSTITUTION_COLUMNS = ("ownership", "roles")
# Chinese headers of the institution template, accepted on import as well.
INSTITUTION_HEADERS_ZH = {
    "机构编码": "code",
    "机构名称": "name",
    "机构类型": "type",
    "上级编码": "parent",
    "所有制": "ownership",
    "机构定位": "roles",
}


class NetworkError(ValueError):
    """A change the network cannot take; the message says why."""


@dataclass
class RowError:
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.message}"


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


def _child_path(parent: OrgUnit | None, code: str) -> str:
    return f"{parent.path if parent else '/'}{code}/"


# --- divisions -------------------------------------------------------------------------


def import_divisions(
    under: str | None = None, progress: Callable[[int, int], None] | None = None
) -> ImportResult:
    """Load the statistical divisions (all, or those under a province/city/county code) with
    their ancestors. Re-running updates names and adds what is missing; it never deletes."""
    wanted = _read_divisions(under)
    if not wanted:
        raise NetworkError(_("No division has the code %(code)s.") % {"code": under})
    existing = dict(OrgUnit.objects.filter(kind=Kind.DIVISION).values_list("code", "id"))
    result = ImportResult()
    with transaction.atomic():
        for done, (level, rows) in enumerate(wanted.items(), start=1):
            _import_level(level, rows, existing, result)
            if progress:
                progress(done, len(wanted))
    return result


def _read_divisions(under: str | None) -> dict[str, list[tuple[str, str, str | None]]]:
    """level -> [(code, name, parent code)] limited to `under` and its ancestors."""
    prefix = under or ""
    levels: dict[str, list[tuple[str, str, str | None]]] = {}
    for filename, level, parent_column in _DIVISION_FILES:
        rows = _bundled_divisions(filename, parent_column)
        keep = [r for r in rows if r[0].startswith(prefix) or prefix.startswith(r[0])]
        if keep:
            levels[level] = keep
    if under and not any(code == under for rows in levels.values() for code, _n, _p in rows):
        return {}
    return levels


@lru_cache(maxsize=len(_DIVISION_FILES))
def _bundled_divisions(
    filename: str, parent_column: str | None
) -> tuple[tuple[str, str, str | None], ...]:
    """(code, name, parent code) of one bundled NBS division file, read once per process (the
    files are packaged data: 45,000 townships take a second to parse)."""
    with open(DIVISIONS_DIR / filename, encoding="utf-8") as handle:
        return tuple(
            (r["code"], r["name"], r[parent_column] if parent_column else None)
            for r in csv.DictReader(handle)
        )


def _import_level(level, rows, existing: dict[str, int], result: ImportResult) -> None:
    parents = {o.code: o for o in OrgUnit.objects.filter(code__in={p for _c, _n, p in rows if p})}
    new_units = []
    for code, name, parent_code in rows:
        if code in existing:
            result.unchanged += 1
            continue
        parent = parents.get(parent_code) if parent_code else None
        new_units.append(
            OrgUnit(
                code=code,
                name=name,
                kind=Kind.DIVISION,
                division_level=level,
                parent=parent,
                path=_child_path(parent, code),
                depth=(parent.depth + 1) if parent else 0,
            )
        )
    OrgUnit.objects.bulk_create(new_units, batch_size=2000)
    created = OrgUnit.objects.filter(code__in=[u.code for u in new_units])
    OrgUnitHistory.objects.bulk_create(
        [
            OrgUnitHistory(orgunit=u, parent_id=u.parent_id, path=u.path, valid_from=BEGINNING)
            for u in created
        ],
        batch_size=2000,
    )
    existing.update({u.code: u.id for u in created})
    result.created += len(new_units)
    renamed = [(c, n) for c, n, _p in rows if c in existing]
    for code, name in renamed:
        OrgUnit.objects.filter(code=code).exclude(name=name).update(name=name)


# --- institutions ----------------------------------------------------------------------


def create_institution(
    *,
    code: str,
    name: str,
    institution_type: str,
    parent: OrgUnit,
    opened_on: date | None = None,
    address: str = "",
    phone: str = "",
    ownership: str = Ownership.PUBLIC,
    roles: Iterable[str] | str = (),
    user: User | None = None,
) -> OrgUnit:
    _check_institution(code, institution_type, parent)
    problem = institution_code_problem(code, parent)
    if problem:
        raise NetworkError(problem)
    ownership, roles = parse_ownership(ownership or Ownership.PUBLIC), parse_roles(roles)
    with transaction.atomic():
        unit = OrgUnit.objects.create(
            code=code,
            name=name,
            kind=Kind.INSTITUTION,
            institution_type=institution_type,
            parent=parent,
            path=_child_path(parent, code),
            depth=parent.depth + 1,
            opened_on=opened_on,
            address=address,
            phone=phone,
            ownership=ownership,
            roles=roles,
        )
        OrgUnitHistory.objects.create(
            orgunit=unit,
            parent=parent,
            path=unit.path,
            valid_from=opened_on or BEGINNING,
            changed_by=user,
            reason="created",
        )
    return unit


# --- institution codes (issue 20.2) ------------------------------------------------------


@lru_cache(maxsize=1)
def _bundled_division_codes() -> frozenset[str]:
    return frozenset(
        row[0] for filename, _level, parent in _DIVISION_FILES
        for row in _bundled_divisions(filename, parent)
    )  # fmt: skip


def is_division_code(code: str) -> bool:
    """A code of the statistical divisions (bundled NBS list or a division in the tree): an
    institution must not take it, or `import-divisions` of that division breaks later."""
    return (
        code in _bundled_division_codes()
        or OrgUnit.objects.filter(code=code, kind=Kind.DIVISION).exists()
    )


def division_of(unit: OrgUnit) -> OrgUnit:
    """The unit itself if it is a division, else the nearest division above it."""
    if unit.kind == Kind.DIVISION:
        return unit
    codes = unit.path.strip("/").split("/")
    divisions = OrgUnit.objects.filter(code__in=codes, kind=Kind.DIVISION).order_by("-depth")
    return divisions.first() or unit


def institution_code_problem(code: str, parent: OrgUnit) -> str | None:
    """Why a new institution cannot take `code` under `parent`, or None. Institution codes
    extend the code of the division they are in (640323100001 in 花马池镇 640323100)."""
    division = division_of(parent)
    if is_division_code(code):
        return _(
            "%(code)s is the code of a division; an institution code is the code of its "
            "division (%(division)s) followed by its own digits"
        ) % {"code": code, "division": division.code}
    if division.kind == Kind.DIVISION and not (
        code.startswith(division.code) and len(code) > len(division.code)
    ):
        return _(
            "%(code)s is outside %(name)s (%(division)s): an institution code starts with "
            "the code of the division it is in"
        ) % {"code": code, "name": division.name, "division": division.code}
    return None


def _describe(key: str, old, new) -> str:
    """name: 旧名 → 新名, with the field's label and choice labels (people read it)."""
    field = OrgUnit._meta.get_field(key)
    labels = dict(field.choices or ())
    names = {"name": _("Name"), "institution_type": _("Type"), "address": _("Address"),
             "phone": _("Phone"), "opened_on": _("Opened on"), "closed_on": _("Closed on"), "ownership": _("Ownership"),
             "roles": _("Roles")}  # fmt: skip

    if key == "roles":  # ";"-separated codes: each by its name
        labels = dict(InstitutionRole.choices)

    def text(value) -> str:
        if value in (None, ""):
            return "—"
        if key == "roles":
            return "、".join(str(labels.get(r, r)) for r in str(value).split(ROLE_SEPARATOR) if r)
        return str(labels.get(value, value))

    return f"{names.get(key, key)}: {text(old)} → {text(new)}"


def _record_change(unit: OrgUnit, user: User | None, detail: str) -> None:
    """An edit of an institution, in its history of changes (who, when, what)."""

    record_event(EventKind.ORGUNIT_CHANGE, user=user, orgunit=unit, detail=detail)


def _check_institution(code: str, institution_type: str, parent: OrgUnit | None) -> None:
    if not code or not code.replace("-", "").isalnum():
        raise NetworkError(_("An institution code is letters, digits and hyphens: %r") % code)
    if institution_type not in InstitutionType.values:
        raise NetworkError(_("Unknown institution type %(type)s.") % {"type": institution_type})
    if parent is None:
        raise NetworkError(_("An institution needs a parent division or institution."))


def parse_ownership(value: str) -> str:
    """`public`/`private`, or the words a sheet may use (公立, 民营, …); NetworkError else."""
    text = str(value or "").strip()
    if text.lower() in Ownership.values:
        return text.lower()
    labels = {str(label): code for code, label in Ownership.choices}
    found = OWNERSHIP_WORDS.get(text) or labels.get(text)
    if found is None:
        words = ", ".join(f"{code} ({label})" for code, label in Ownership.choices)
        raise NetworkError(
            _("unknown ownership %(value)r; one of %(words)s") % {"value": text, "words": words}
        )
    return str(found)


def parse_roles(value: Iterable[str] | str) -> str:
    """The stored form (";"-joined sorted codes) of roles given as codes or words (县中医医院),
    separated by ";" (or "；", "、"); NetworkError naming the unknown ones."""
    if isinstance(value, str):
        for separator in ("；", "、", ","):
            value = value.replace(separator, ROLE_SEPARATOR)
        value = value.split(ROLE_SEPARATOR)
    labels = {str(label): code for code, label in InstitutionRole.choices}
    codes, unknown = [], []
    for item in (str(v).strip() for v in value):
        if not item:
            continue
        code = item.lower() if item.lower() in InstitutionRole.values else None
        code = code or ROLE_WORDS.get(item) or labels.get(item)
        (codes if code else unknown).append(code or item)
    if unknown:
        words = ", ".join(f"{code} ({label})" for code, label in InstitutionRole.choices)
        raise NetworkError(
            _("unknown role %(value)s; roles are %(words)s")
            % {"value": ", ".join(repr(u) for u in unknown), "words": words}
        )
    return join_roles(codes)


UPDATABLE = ("name", "institution_type", "address", "phone", "opened_on", "ownership", "roles")


def update_institution(
    unit: OrgUnit,
    *,
    user: User | None = None,
    channel: str = "web",
    valid_from: date | None = None,
    **fields,
) -> OrgUnit:
    """Change name, type, address, phone, opening date, ownership or roles (not code, parent
    or closing). Each changed field is recorded (OrgUnitChange) with who changed it and the
    day the new value holds from (`valid_from`, default today): ownership and roles are judged
    as they stood in the year evaluated. Like moves, changes of a field are recorded in date
    order: one dated before that field's latest recorded change is refused."""
    unknown = set(fields) - set(UPDATABLE)
    if unknown:
        raise NetworkError(f"update_institution cannot change {sorted(unknown)}")
    valid_from = valid_from or timezone.localdate()
    if "institution_type" in fields:
        _check_institution(unit.code, fields["institution_type"], unit.parent)
    if "ownership" in fields:
        fields["ownership"] = parse_ownership(fields["ownership"])
    if "roles" in fields:
        fields["roles"] = parse_roles(fields["roles"])
    with transaction.atomic():
        current = OrgUnit.objects.select_for_update().get(pk=unit.pk)
        changed = [k for k, v in fields.items() if getattr(current, k) != v]
        _check_change_order(unit, changed, valid_from)
        now = timezone.now()
        OrgUnitChange.objects.bulk_create(
            OrgUnitChange(
                orgunit=unit,
                field=key,
                old=_shown(getattr(current, key)),
                new=_shown(fields[key]),
                changed_by=user,
                at=now,
                valid_from=valid_from,
                channel=channel,
            )
            for key in changed
        )
        for key in changed:  # the security log keeps who changed what, beside the field rows
            _record_change(unit, user, _describe(key, getattr(current, key), fields[key]))
        for key, value in fields.items():
            setattr(unit, key, value)
        unit.save()
    return unit


def _check_change_order(unit: OrgUnit, fields: list[str], valid_from: date) -> None:
    latest = (
        OrgUnitChange.objects.filter(orgunit=unit, field__in=fields, valid_from__gt=valid_from)
        .order_by("-valid_from")
        .values_list("field", "valid_from")
        .first()
    )
    if latest:
        raise NetworkError(
            _("%(unit)s: %(field)s changed already from %(day)s; a change from %(from)s would"
              " come before it. Record changes in date order.")
            % {"unit": unit.name, "field": CHANGE_FIELD_LABELS.get(latest[0], latest[0]),
               "day": latest[1].isoformat(), "from": valid_from.isoformat()}
        )  # fmt: skip


def _shown(value) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)[:200]


def move_orgunit(
    unit: OrgUnit, new_parent: OrgUnit, on: date, *, user: User | None = None, reason: str = ""
) -> OrgUnit:
    """Move a unit (and its subtree) under `new_parent` from `on`. Earlier periods keep
    rolling up by the old tree (township mergers, 撤乡并镇)."""
    if new_parent.path.startswith(unit.path):
        raise NetworkError(_("A unit cannot move beneath itself."))
    if new_parent.pk == unit.parent_id:
        raise NetworkError(_("The unit is already there."))
    old_prefix, new_prefix = unit.path, _child_path(new_parent, unit.code)
    with transaction.atomic():
        subtree = list(OrgUnit.objects.select_for_update().filter(path__startswith=old_prefix))
        current = OrgUnitHistory.objects.filter(
            orgunit__in=subtree, valid_to__isnull=True, valid_from__lte=on
        )
        if OrgUnitHistory.objects.filter(orgunit__in=subtree, valid_from__gt=on).exists():
            raise NetworkError(_("A later move is already recorded; moves are recorded in order."))
        current.update(valid_to=on)
        depth_change = new_parent.depth + 1 - unit.depth
        for member in subtree:
            member.path = new_prefix + member.path[len(old_prefix) :]
            member.depth += depth_change
            if member.pk == unit.pk:
                member.parent = new_parent
        OrgUnit.objects.bulk_update(subtree, ["path", "depth", "parent"])
        OrgUnitHistory.objects.bulk_create(
            OrgUnitHistory(
                orgunit=m,
                parent_id=m.parent_id,
                path=m.path,
                valid_from=on,
                changed_by=user,
                reason=reason or "moved",
            )
            for m in subtree
        )
        detail = _("Moved from %(old)s to %(new)s on %(on)s")
        old_parent = unit.parent.name if unit.parent else "—"
        _record_change(unit, user, detail % {"old": old_parent, "new": new_parent.name, "on": on})
    unit.refresh_from_db()
    return unit


def close_orgunit(unit: OrgUnit, on: date, *, user: User | None = None) -> OrgUnit:
    """Close a unit from `on`: it counts only in the periods it was open."""
    if unit.opened_on and on <= unit.opened_on:
        raise NetworkError(_("A unit cannot close before it opened."))
    with transaction.atomic():
        _record_change(unit, user, _describe("closed_on", unit.closed_on, on))
        unit.closed_on = on
        unit.save(update_fields=["closed_on", "updated_at"])
    return unit


def reopen_orgunit(unit: OrgUnit, *, user: User | None = None) -> OrgUnit:
    with transaction.atomic():
        _record_change(unit, user, _describe("closed_on", unit.closed_on, None))
        unit.closed_on = None
        unit.save(update_fields=["closed_on", "updated_at"])
    return unit


def import_institutions(
    rows: Iterable[dict[str, str]],
    *,
    allowed_parent: Callable[[OrgUnit], bool] | None = None,
    user: User | None = None,
) -> ImportResult:
    """Create or update institutions from rows with `code,name,type,parent` and optionally
    `ownership` (public/private, 公立/民营; empty keeps it, new institutions are public) and
    `roles` (";"-separated codes or words such as 县中医医院; when the column is there, an empty
    cell means no role). All or nothing. Row numbers count the header as row 1.
    `allowed_parent(unit)` says whether the user may manage a unit: it is asked for the parent
    of every row AND for every existing institution a row changes (issue 20.2: a supervisor
    renamed another township's centre through a parent created earlier in the same file)."""
    result = ImportResult()
    rows = list(rows)
    codes_in_file = {(r.get("code") or "").strip() for r in rows}
    known = {
        o.code: o
        for o in OrgUnit.objects.filter(
            code__in=codes_in_file | {(r.get("parent") or "").strip() for r in rows}
        )
    }
    seen: dict[str, int] = {}
    plan = []
    for number, row in enumerate(rows, start=2):
        item = _check_institution_row(number, row, known, codes_in_file, seen, allowed_parent)
        if isinstance(item, list):
            result.errors.extend(item)
        else:
            plan.append(item)
    if result.errors:
        return result
    with transaction.atomic():
        for code, name, kind, parent_code, extra in _parents_first(plan):
            parent = known.get(parent_code) or OrgUnit.objects.get(code=parent_code)
            unit = known.get(code)
            if unit is None:
                known[code] = create_institution(
                    code=code, name=name, institution_type=kind, parent=parent, user=user, **extra
                )
                result.created += 1
                continue
            wanted = {"name": name, "institution_type": kind, **extra}
            if any(getattr(unit, key) != value for key, value in wanted.items()):
                update_institution(unit, user=user, channel="import", **wanted)
                result.updated += 1
            else:
                result.unchanged += 1
    return result


def _code_problem(code, parent_code, known, seen, allowed_parent) -> str | None:
    """What is wrong with an institutions-file row's code, in words (None: nothing)."""
    if not code:
        return _("is empty")
    if code in seen:
        return _("repeats row %(row)s") % {"row": seen[code]}
    if code in known and known[code].kind != Kind.INSTITUTION:
        return _("%(code)s is a division") % {"code": code}
    if code in known and allowed_parent and not allowed_parent(known[code]):
        return _("%(code)s is outside your scope") % {"code": code}
    if code not in known and known.get(parent_code) is not None:
        return institution_code_problem(code, known[parent_code]) or None
    return None


def _parent_problem(code, parent_code, known, codes_in_file, allowed_parent) -> str | None:
    """What is wrong with an institutions-file row's parent, in words (None: nothing)."""
    parent = known.get(parent_code)
    if not parent_code:
        return _("is empty")
    if parent is None and parent_code not in codes_in_file:
        return _("no org unit has the code %(code)s") % {"code": parent_code}
    if parent is not None and allowed_parent and not allowed_parent(parent):
        return _("%(code)s is outside your scope") % {"code": parent_code}
    if code in known and (parent is None or known[code].parent_id != parent.pk):
        return _("the institution is under another unit; move it on its page")
    return None


def _check_institution_row(number, row, known, codes_in_file, seen, allowed_parent):
    errors = []
    code = (row.get("code") or "").strip()
    name = (row.get("name") or "").strip()
    kind = (row.get("type") or "").strip()
    parent_code = (row.get("parent") or "").strip()
    problem = _code_problem(code, parent_code, known, seen, allowed_parent)
    if problem:
        errors.append(RowError(number, "code", problem))
    seen.setdefault(code, number)
    if not name:
        errors.append(RowError(number, "name", _("is empty")))
    if kind not in InstitutionType.values:
        errors.append(
            RowError(
                number,
                "type",
                _("unknown type %(type)r; one of %(types)s")
                % {"type": kind, "types": ", ".join(InstitutionType.values)},
            )
        )
    problem = _parent_problem(code, parent_code, known, codes_in_file, allowed_parent)
    if problem:
        errors.append(RowError(number, "parent", problem))
    extra = _optional_columns(number, row, errors)
    return errors or (code, name, kind, parent_code, extra)


def _optional_columns(number: int, row: dict[str, str], errors: list[RowError]) -> dict:
    """ownership and roles of a row, as update_institution takes them; errors appended."""
    extra = {}
    if (row.get("ownership") or "").strip():
        try:
            extra["ownership"] = parse_ownership(row["ownership"])
        except NetworkError as error:
            errors.append(RowError(number, "ownership", str(error)))
    if "roles" in row:
        try:
            extra["roles"] = parse_roles(row.get("roles") or "")
        except NetworkError as error:
            errors.append(RowError(number, "roles", str(error)))
    return extra


def _parents_first(plan: list[tuple]) -> list[tuple]:
    codes = {p[0] for p in plan}
    ordered, placed, pending = [], set(), list(plan)
    while pending:
        ready = [p for p in pending if p[3] not in codes or p[3] in placed]
        if not ready:
            raise NetworkError(_("The parents in the file form a cycle."))
        ordered += ready
        placed |= {p[0] for p in ready}
        pending = [p for p in pending if p[0] not in placed]
    return ordered


def read_institution_file(name: str, content: bytes) -> list[dict[str, str]]:
    """Rows of an institution sheet (.csv in UTF-8/GBK, or .xlsx) with English or Chinese
    headers. Raises NetworkError with the file name when it cannot be read or is past the
    upload limits (lib/uploads.py)."""
    try:
        if name.lower().endswith(".xlsx"):
            return _read_xlsx(name, content)
        # A NUL is never meaningful in a cell, and PostgreSQL refuses it in text (fuzzing).
        text = _decode(name, content).replace("\x00", "")
        try:
            table = [row for row in uploads.text_rows(text, name) if any(c.strip() for c in row)]
        except csv.Error as error:  # e.g. a stray carriage return inside a field (fuzzing)
            raise NetworkError(
                _("%(file)s is not a readable CSV file (%(error)s).")
                % {"file": name, "error": error}
            ) from error
    except uploads.TooLarge as error:
        raise NetworkError(str(error)) from None
    return _rows_from_table(name, table)


def _decode(name: str, content: bytes) -> str:
    text = decode_text(content)
    if text is None:
        raise NetworkError(_("%(file)s is neither UTF-8 nor GBK text.") % {"file": name})
    return text


def _read_xlsx(name: str, content: bytes) -> list[dict[str, str]]:
    try:
        rows = sheets.workbook_rows(content, name)
    except (BadZipFile, KeyError, OSError, ValueError, EOFError, zlib.error, ParseError) as error:
        # zlib.error, EOFError: a damaged zip, at load or while rows are read (fuzzing).
        raise NetworkError(
            _("%(file)s is not an Excel workbook (%(error)s).") % {"file": name, "error": error}
        ) from error
    table = [["" if c is None else str(c).strip() for c in row] for row in rows]
    return _rows_from_table(name, [r for r in table if any(r)])


def _rows_from_table(name: str, table: list[list[str]]) -> list[dict[str, str]]:
    if not table:
        raise NetworkError(_("%(file)s is empty.") % {"file": name})
    header = [INSTITUTION_HEADERS_ZH.get(h.strip(), h.strip().lower()) for h in table[0]]
    missing = [c for c in INSTITUTION_COLUMNS if c not in header]
    if missing:
        raise NetworkError(
            _("%(file)s, row 1: missing columns %(columns)s")
            % {"file": name, "columns": ", ".join(missing)}
        )
    width = len(header)  # a short row's missing cells are empty, not absent
    return [
        dict(zip(header, [cell.strip() for cell in row] + [""] * (width - len(row)), strict=False))
        for row in table[1:]
    ]


def institution_template() -> bytes:
    """An .xlsx template with Chinese headers and a drop-down of institution types."""

    book = Workbook()
    sheet = book.active
    sheet.title = "机构"
    sheet.append(list(INSTITUTION_HEADERS_ZH))
    sheet.append(
        ["640323100001", "花马池镇卫生院", "township_health_center", "640323100", "公立", ""]
    )
    types = DataValidation(type="list", formula1='"' + ",".join(InstitutionType.values) + '"')
    sheet.add_data_validation(types)
    types.add("C2:C2000")
    owned = DataValidation(type="list", formula1='"公立,民营"', allow_blank=True)
    sheet.add_data_validation(owned)
    owned.add("E2:E2000")
    for column in "ABCDEF":
        sheet.column_dimensions[column].width = 24
    legend = book.create_sheet("机构类型")
    legend.append(["type", "名称"])
    for value, label in InstitutionType.choices:
        legend.append([value, str(label)])
    legend = book.create_sheet("机构定位")
    legend.append(["roles", "名称"])
    for value, label in InstitutionRole.choices:
        legend.append([value, str(label)])
    out = io.BytesIO()
    cells.text_typed(book)
    book.save(out)
    return out.getvalue()


EXPORT_COLUMNS = (*INSTITUTION_COLUMNS, *OPTIONAL_INSTITUTION_COLUMNS)


def institution_rows(under: OrgUnit) -> list[dict[str, str]]:
    """The institutions beneath `under` as import rows (code, name, type, parent, ownership,
    roles): a file of them is a valid import of itself and changes nothing."""
    units = OrgUnit.objects.filter(kind=Kind.INSTITUTION, path__startswith=under.path)
    return [
        {
            "code": unit.code,
            "name": unit.name,
            "type": unit.institution_type,
            "parent": unit.parent.code,
            "ownership": unit.ownership or Ownership.PUBLIC,
            "roles": unit.roles,
        }
        for unit in units.select_related("parent").order_by("path")
    ]


def export_institutions_csv(under: OrgUnit) -> str:
    out = io.StringIO()
    writer = cells.dict_writer(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(institution_rows(under))
    return out.getvalue()


# --- users -----------------------------------------------------------------------------


def create_user(
    username: str,
    password: str,
    *,
    role: str,
    orgunit: OrgUnit,
    department: str = "",
    full_name: str = "",
) -> User:
    """A user with one membership; re-running resets the password and keeps one membership."""
    if role not in Role.values:
        raise NetworkError(_("Unknown role %(role)s.") % {"role": role})
    if role == Role.INSTITUTION_CLERK and orgunit.kind != Kind.INSTITUTION:
        raise NetworkError(_("An institution clerk's unit must be an institution."))
    if role == Role.DEPARTMENT_LIAISON and not department:
        raise NetworkError(_("A department liaison needs a department."))
    with transaction.atomic():
        user, _created = User.objects.get_or_create(username=username)
        user.first_name = full_name
        user.set_password(password)
        user.save()
        Membership.objects.filter(user=user).delete()
        Membership.objects.create(user=user, role=role, orgunit=orgunit, department=department)
    return user

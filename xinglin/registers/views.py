"""Register pages, the same for every register (derived from its declaration): list with
search, year and paging (and its .csv/.json twins), entry form, detail with history, import."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from xinglin.care import privacy
from xinglin.core.models import EventKind
from xinglin.core.security import record_event
from xinglin.network import access
from xinglin.registers import actions, exchange
from xinglin.registers.access import get_record_for_user, records_for_user, shown
from xinglin.registers.forms import form_class
from xinglin.registers.models import RecordChange
from xinglin.registers.registry import REGISTERS, Register
from xinglin.standards.labels import source as cited_source

PAGE_SIZE = 50


def _register(code: str) -> Register:
    if code not in REGISTERS:
        raise Http404(code)
    return REGISTERS[code]


def _filtered(register: Register, request):
    records = records_for_user(register, request.user)
    query = request.GET.get("q", "").strip()
    if query:
        match = Q(orgunit__name__contains=query)
        for name in register.search:
            match |= Q(**{f"{name}__contains": query})
        records = records.filter(match)
    year = request.GET.get("year", "").strip()
    if year.isdigit():
        lookup = "year" if register.is_yearly else f"{register.date_field}__year"
        records = records.filter(**{lookup: int(year)})
    return records


@login_required
def index(request):
    registers = [r for r in REGISTERS.values() if not r.personal or _has_records(request.user)]
    return render(request, "registers/index.html", {"registers": registers})


def _has_records(user) -> bool:
    return access.orgunits_for_user(user, privacy.RECORDS_ACTION).exists()


@login_required
def record_list(request, code: str):
    register = _register(code)
    page = Paginator(_filtered(register, request), PAGE_SIZE).get_page(request.GET.get("page"))
    if register.personal:
        privacy.audit_view(request, register.code, len(page.object_list))
    rows = [(r, _cells(register, request.user, r)) for r in page.object_list]
    return render(request, "registers/list.html", {
        "register": register, "page": page, "rows": rows,
        "columns": [register.field(f).verbose_name for f in register.listed],
        "query": request.GET.get("q", ""), "year": request.GET.get("year", ""),
        "can_report": access.orgunits_for_user(request.user, "report").exists(),
        "sources": "；".join(cited_source(part) for part in register.source.split("; ")),
    })  # fmt: skip


def _cells(register: Register, user, record) -> list:
    personal = shown(register, user, record) if register.personal else {}
    cells = []
    for name in register.listed:
        if name in personal:
            cells.append(personal[name])
        elif name in register.org_fields:
            cells.append(getattr(record, name).name)
        elif register.field(name).choices:
            cells.append(getattr(record, f"get_{name}_display")())
        else:
            cells.append(getattr(record, name))
    return cells


@login_required
def record_export(request, code: str, fmt: str):
    """The list's twin: every record of the filter (no paging), a valid import of itself.
    Personal registers: only the records in the user's `export` scope, like care's exports."""
    register = _register(code)
    records = _filtered(register, request)
    if register.personal:
        records = records.filter(access.scope_q(request.user, "export", "orgunit__path"))
        record_event(
            EventKind.PERSONAL_EXPORT,
            request=request,
            detail=f"{register.code}: {records.count()} rows",
        )
    if fmt == "json":
        return JsonResponse({"register": register.code, "items": exchange.json_items(register, records)},
                            json_dumps_params={"ensure_ascii": False})  # fmt: skip
    response = HttpResponse(
        exchange.csv_bytes(register, records), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{register.code}.csv"'
    return response


@login_required
def record_detail(request, code: str, pk: int):
    register = _register(code)
    record = get_record_for_user(register, request.user, pk)
    if register.personal:
        privacy.audit_view(request, register.code, 1)
    personal = shown(register, request.user, record) if register.personal else {}
    fields = []
    for name in register.fields:
        value = personal[name] if name in personal else getattr(record, name)
        if name in register.org_fields:
            value = value.name
        elif register.field(name).choices and name not in personal:
            value = getattr(record, f"get_{name}_display")()
        fields.append((register.field(name).verbose_name, value))
    history = RecordChange.objects.filter(
        register=register.code, record_id=record.pk
    ).select_related("user")
    changes = [(c, [(register.field(f).verbose_name, old, new) for f, (old, new) in c.changes.items()
                    if f in register.fields]) for c in history]  # fmt: skip
    return render(request, "registers/detail.html", {
        "register": register, "record": record, "fields": fields, "history": changes,
        "can_edit": access.can(request.user, "report", record.orgunit),
        "overdue": getattr(record, "is_overdue", lambda: False)(),
    })  # fmt: skip


@login_required
def record_form(request, code: str, pk: int | None = None):
    register = _register(code)
    if not access.orgunits_for_user(request.user, "report").exists():
        raise PermissionDenied(register.code)
    record = get_record_for_user(register, request.user, pk, "report") if pk else None
    if (
        record is not None
        and register.personal
        and not access.can(request.user, "export", record.orgunit)
    ):
        raise PermissionDenied(register.code)  # editing shows the personal fields in full
    initial = {f: getattr(record, f).code for f in register.org_fields} if record else {}
    form = form_class(register, request.user)(
        request.POST or None, instance=record, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        record = actions.save_record(register, form, user=request.user)
        messages.success(request, _("Saved."))
        return redirect("registers:detail", code=register.code, pk=record.pk)
    return render(
        request, "registers/form.html", {"register": register, "form": form, "record": record}
    )


@login_required
def record_import(request, code: str):
    register = _register(code)
    if not access.orgunits_for_user(request.user, "report").exists():
        raise PermissionDenied(register.code)
    errors: list[str] = []
    if request.method == "POST" and "file" in request.FILES:
        upload = request.FILES["file"]
        try:
            rows = exchange.read(register, upload.name, upload.read())
        except exchange.FileError as error:
            errors = [str(error)]
        else:
            result = actions.import_rows(register, rows, user=request.user, file=upload.name)
            if result.ok:
                messages.success(request, _("%(n)d records added.") % {"n": result.added})
                return redirect("registers:list", code=register.code)
            errors = [str(e) for e in result.errors]
    return render(request, "registers/import.html", {
        "register": register, "errors": errors, "headers": exchange.headers(register)})  # fmt: skip


@login_required
def import_template(request, code: str):
    register = _register(code)
    response = HttpResponse(
        exchange.template_xlsx(register),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{register.code}-template.xlsx"'
    return response

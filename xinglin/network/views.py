from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinglin.core.models import EventKind, SecurityEvent
from xinglin.lib import cells, uploads
from xinglin.network import access
from xinglin.network.actions import (
    NetworkError,
    close_orgunit,
    create_institution,
    export_institutions_csv,
    import_institutions,
    institution_code_problem,
    institution_template,
    move_orgunit,
    read_institution_file,
    reopen_orgunit,
    update_institution,
)
from xinglin.network.forms import (
    CloseForm,
    EditInstitutionForm,
    ImportForm,
    MoveForm,
    NewInstitutionForm,
)
from xinglin.network.models import OrgUnit

CHILD_FIELDS = (
    "code",
    "name",
    "kind",
    "division_level",
    "institution_type",
    "opened_on",
    "closed_on",
    "ownership",
    "roles",
)


@login_required
def tree(request):
    roots = access.scope_roots(request.user)
    if len(roots) == 1:
        return redirect("network:orgunit", roots[0].code)
    query = request.GET.get("q", "").strip()
    found = (
        access.orgunits_for_user(request.user).filter(name__contains=query)[:50] if query else []
    )
    return render(request, "network/tree.html", {"roots": roots, "query": query, "found": found})


@login_required
def orgunit(request, code):
    unit = access.get_orgunit_for_user(request.user, code)
    query = request.GET.get("q", "").strip()
    context = {
        "unit": unit,
        "ancestors": _visible_ancestors(request.user, unit),
        "children": _children(unit),
        "history": unit.history.select_related("parent").order_by("valid_from"),
        "changes": unit.changes.select_related("changed_by"),
        "events": SecurityEvent.objects.filter(kind=EventKind.ORGUNIT_CHANGE, orgunit=unit),
        "can_manage": access.can(request.user, "manage", unit),
        "query": query,
        "found": access.orgunits_for_user(request.user).filter(
            path__startswith=unit.path, name__contains=query
        )[:50]
        if query
        else [],
    }
    return render(request, "network/orgunit.html", context)


@login_required
def children_export(request, code, fmt):
    if fmt not in ("csv", "json"):
        raise Http404(fmt)
    unit = access.get_orgunit_for_user(request.user, code)
    rows = list(unit.children.values(*CHILD_FIELDS))
    if fmt == "json":
        return JsonResponse(
            {"orgunit": unit.code, "children": rows},
            json_dumps_params={"ensure_ascii": False, "default": str},
        )
    out = io.StringIO()
    writer = cells.dict_writer(out, fieldnames=CHILD_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{unit.code}-children.csv"'
    return response


@login_required
def institutions_export(request, code):
    """Every institution beneath the unit in the import's own format (a valid import of
    itself): code, name, type, parent, ownership, roles."""
    unit = access.get_orgunit_for_user(request.user, code)
    response = HttpResponse(
        "\ufeff" + export_institutions_csv(unit), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{unit.code}-institutions.csv"'
    return response


@login_required
def edit(request, code):
    unit = access.get_orgunit_for_user(request.user, code, "manage")
    if not unit.is_institution:
        raise Http404(code)
    initial = {
        f: getattr(unit, f) for f in ("name", "institution_type", "address", "phone", "opened_on")
    }
    initial.update(ownership=unit.ownership or "public", roles=unit.role_list)
    form = EditInstitutionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "ownership" or v}
        try:
            update_institution(unit, user=request.user, **fields)
        except NetworkError as error:
            form.add_error("valid_from", str(error))
        else:
            messages.success(request, _("Saved."))
            return redirect("network:orgunit", unit.code)
    return render(
        request, "network/form.html", {"unit": unit, "form": form, "title": _("Edit institution")}
    )


@login_required
def add(request, code):
    parent = access.get_orgunit_for_user(request.user, code, "manage")
    form = NewInstitutionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        problem = institution_code_problem(form.cleaned_data["code"], parent)
        if OrgUnit.objects.filter(code=form.cleaned_data["code"]).exists():
            form.add_error("code", _("This code is taken."))
        elif problem:
            form.add_error("code", problem)
        else:
            unit = create_institution(parent=parent, user=request.user, **form.cleaned_data)
            messages.success(request, _("Institution added."))
            return redirect("network:orgunit", unit.code)
    return render(
        request,
        "network/form.html",
        {"unit": parent, "form": form, "title": _("Add an institution")},
    )


@login_required
def move(request, code):
    unit = access.get_orgunit_for_user(request.user, code, "manage")
    form = MoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        target = form.cleaned_data["new_parent"].strip()
        try:
            new_parent = access.get_orgunit_for_user(request.user, target, "manage")
            move_orgunit(
                unit,
                new_parent,
                form.cleaned_data["on"],
                user=request.user,
                reason=form.cleaned_data["reason"],
            )
        except (Http404, NetworkError) as error:
            form.add_error(
                "new_parent",
                str(error)
                if isinstance(error, NetworkError)
                else _("No unit with this code in your scope."),
            )
        else:
            messages.success(request, _("Moved."))
            return redirect("network:orgunit", unit.code)
    return render(
        request,
        "network/form.html",
        {"unit": unit, "form": form, "title": _("Move to another parent")},
    )


@login_required
def close(request, code):
    unit = access.get_orgunit_for_user(request.user, code, "manage")
    form = CloseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            close_orgunit(unit, form.cleaned_data["on"], user=request.user)
        except NetworkError as error:
            form.add_error("on", str(error))
        else:
            messages.success(request, _("Closed."))
            return redirect("network:orgunit", unit.code)
    return render(request, "network/form.html", {"unit": unit, "form": form, "title": _("Close")})


@login_required
@require_POST
def reopen(request, code):
    unit = access.get_orgunit_for_user(request.user, code, "manage")
    reopen_orgunit(unit, user=request.user)
    messages.success(request, _("Reopened."))
    return redirect("network:orgunit", unit.code)


@login_required
def import_page(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rows = read_institution_file(upload.name, uploads.read(upload))
            result = import_institutions(
                rows,
                user=request.user,
                allowed_parent=lambda unit: access.can(request.user, "manage", unit),
            )
        except (NetworkError, uploads.TooLarge) as error:
            form.add_error("file", str(error))
        else:
            if not result.errors:
                messages.success(
                    request,
                    _("%(created)s added, %(updated)s changed, %(unchanged)s unchanged.")
                    % vars(result),
                )
    return render(request, "network/import.html", {"form": form, "result": result})


@login_required
def import_template(request):
    response = HttpResponse(
        institution_template(),
        content_type=("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )
    response["Content-Disposition"] = 'attachment; filename="institutions-template.xlsx"'
    return response


def _visible_ancestors(user, unit: OrgUnit) -> list[OrgUnit]:
    codes = list(unit.path.strip("/").split("/")[:-1])
    ancestors = {o.code: o for o in OrgUnit.objects.filter(code__in=codes)}
    return [
        ancestors[c] for c in codes if c in ancestors and access.can(user, "view", ancestors[c])
    ]


def _children(unit: OrgUnit) -> list[OrgUnit]:
    return list(
        unit.children.annotate(
            institutions=Count("children", filter=Q(children__kind="institution"))
        ).order_by("kind", "code")
    )

"""Pages of the clinical records: visits from HIS exports (import, column mappings, reported vs
records), rehabilitation outcomes, two-way referrals. Scoped through xinglin.network.access."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinglin.care import actions as care_actions
from xinglin.care import referrals as referrals_rules
from xinglin.care import rehab
from xinglin.care.actions import CareError
from xinglin.care.comparison import compare_reported_with_records
from xinglin.care.models import (
    ReferralStatus,
    RehabCase,
    Visit,
    VisitColumnMapping,
    VisitImport,
)
from xinglin.care.records_forms import MappingForm, ReferralForm, RehabCaseForm, VisitImportForm
from xinglin.care.views import PAGE_SIZE, _csv_response, _institutions, parse_year
from xinglin.care.visit_files import read_table
from xinglin.care.visit_mappings import save_mapping
from xinglin.care.visit_rules import layout, tcm_definition, tcm_q
from xinglin.care.visits import import_visits
from xinglin.lib import uploads
from xinglin.network import access
from xinglin.network.models import OrgUnit
from xinglin.standards.models import TechniqueItem


def _year(request, default: int) -> int:
    return parse_year(request.GET["year"]) if "year" in request.GET else default


def _latest_visit_year(user) -> int:
    month = (
        Visit.objects.filter(access.scope_q(user, "view", "institution__path"))
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    return int(month[:4]) if month else date.today().year


# ---------------------------------------------------------------------------
# Visits
# ---------------------------------------------------------------------------


@login_required
def visits(request, fmt: str = "html"):
    year = _year(request, _latest_visit_year(request.user))
    scoped = Visit.objects.filter(access.scope_q(request.user, "view", "institution__path"))
    rows = list(
        scoped.filter(month__startswith=str(year))
        .values("institution__code", "institution__name")
        .annotate(total=Count("id"), tcm=Count("id", filter=tcm_q()))
        .order_by("institution__code")
    )
    for row in rows:
        row["share"] = round(100 * row["tcm"] / row["total"], 1) if row["total"] else None
    if fmt == "csv":
        header = ["institution", "name", "total_visits", "tcm_visits"]
        body = (
            [r["institution__code"], r["institution__name"], r["total"], r["tcm"]] for r in rows
        )
        return _csv_response(f"visits-{year}.csv", header, body)
    codes = set(_institutions(request.user, "report").values_list("code", flat=True))
    imports = [
        b for b in VisitImport.objects.all()[:50] if set(b.institutions) & codes
    ][:10]  # fmt: skip
    context = {
        "year": year,
        "rows": rows,
        "imports": imports,
        "can_report": bool(codes),
        "tcm_counts": tcm_definition().description(),
    }
    return render(request, "care/visits.html", context)


@login_required
def visit_import(request):
    institutions = _institutions(request.user, "report")
    if not institutions.exists():
        raise Http404("no institution to report for")
    mappings = VisitColumnMapping.objects.filter(institution__in=institutions).select_related(
        "institution"
    )
    form = VisitImportForm(request.POST or None, request.FILES or None, mappings=mappings)
    result = None
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["mapping"]
        mapping = mappings.filter(institution__code=code).first() if code else None
        upload = form.cleaned_data["file"]
        try:
            result = import_visits(
                upload.name, uploads.read(upload), mapping=mapping, user=request.user,
                allowed=lambda unit: access.can(request.user, "report", unit),
            )  # fmt: skip
        except (CareError, uploads.TooLarge) as error:
            form.add_error("file", str(error))
        if result and not result.errors:
            messages.success(
                request,
                _("%(n)s visits imported (%(t)s TCM visits), %(r)s earlier visits replaced.")
                % {"n": result.rows, "t": result.tcm_visits, "r": result.replaced},
            )
            return redirect("care:visits")
    context = {"form": form, "result": result, "layout": layout()}
    return render(request, "care/visit_import.html", context)


@login_required
def visit_mappings(request):
    institutions = _institutions(request.user, "report").order_by("code")
    saved = set(
        VisitColumnMapping.objects.filter(institution__in=institutions).values_list(
            "institution__code", flat=True
        )
    )
    rows = [{"unit": u, "has_mapping": u.code in saved} for u in institutions]
    return render(request, "care/visit_mappings.html", {"rows": rows})


@login_required
def visit_mapping(request, code: str):
    institution = access.get_orgunit_for_user(request.user, code, "report")
    mapping = VisitColumnMapping.objects.filter(institution=institution).first()
    form = MappingForm(request.POST or None, request.FILES or None, initial=_initial(mapping))
    headers = []
    if request.method == "POST" and form.is_valid():
        sample = form.cleaned_data["sample"]
        if sample:
            headers = _headers(sample, form)
        else:
            try:
                save_mapping(institution, form.columns(), form.technique_map(), request.user)
            except (CareError, ValueError) as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Column mapping saved."))
                return redirect("care:visit_mappings")
    context = {"institution": institution, "form": form, "headers": headers}
    return render(request, "care/visit_mapping.html", context)


def _initial(mapping: VisitColumnMapping | None) -> dict:
    columns = mapping.columns if mapping else {n: s["zh"] for n, s in layout().items()}
    initial = {f"col_{n}": columns.get(n, "") for n in layout()}
    techniques = mapping.techniques if mapping else {}
    initial["techniques"] = "\n".join(f"{k} = {v}" for k, v in techniques.items())
    return initial


def _headers(sample, form) -> list[str]:
    try:
        return next(read_table(sample.name, uploads.read(sample)), [])
    except (CareError, uploads.TooLarge) as error:
        form.add_error("sample", str(error))
        return []


@login_required
def visit_comparison(request, code: str, fmt: str = "html"):
    unit = access.get_orgunit_for_user(request.user, code)
    year = _year(request, _latest_visit_year(request.user))
    rows = compare_reported_with_records(unit, year)
    for row in rows:
        row["label"] = _(row["label"])
    if fmt == "json":
        return JsonResponse({"orgunit": unit.code, "year": year, "figures": rows})
    if fmt == "csv":
        header = ["figure", "reported", "records", "difference", "relative", "flagged"]
        body = ([r["code"], r["reported"], r["records"], r["difference"], r["relative"],
                 int(r["is_flagged"])] for r in rows)  # fmt: skip
        return _csv_response(f"reported-vs-records-{unit.code}-{year}.csv", header, body)
    chart = {"months": [m["period"] for m in rows[0]["monthly"]] if rows else [], "series": [
        {"name": f"{r['label']} · {kind}", "data": [m[kind] for m in r["monthly"]]}
        for r in rows[:2] for kind in ("reported", "records")
    ]}  # fmt: skip
    context = {"unit": unit, "year": year, "rows": rows, "chart": chart,
               "tolerance": rows[0]["tolerance"] * 100 if rows else None}  # fmt: skip
    return render(request, "care/visit_comparison.html", context)


# ---------------------------------------------------------------------------
# Rehabilitation
# ---------------------------------------------------------------------------


def _rehab_cases(user):
    return RehabCase.objects.filter(access.scope_q(user, "view", "institution__path"))


@login_required
def rehab_summary(request, fmt: str = "html"):
    cases = _rehab_cases(request.user)
    latest = cases.order_by("-admitted_on").values_list("admitted_on", flat=True).first()
    year = _year(request, latest.year if latest else date.today().year)
    by = request.GET.get("by", "condition")
    if by not in rehab.GROUPS:
        raise Http404("by")
    selected = cases if by == "year" else cases.filter(admitted_on__year=year)
    rows = rehab.summary(selected, by)
    names = _group_names(by, [r["key"] for r in rows])
    for row in rows:
        row["name"] = names.get(row["key"], str(row["key"]))
    if fmt == "csv":
        header = ["group", "cases", "discharged", "mean_improvement", "mean_stay_days",
                  "tcm_share", "improved"]  # fmt: skip
        body = ([r["key"], r["cases"], r["discharged"], r["improvement"], r["stay_days"],
                 r["tcm_share"], r["improved"]] for r in rows)  # fmt: skip
        return _csv_response(f"rehab-{by}-{year}.csv", header, body)
    chart = {"names": [r["name"] for r in rows], "improvement": [r["improvement"] for r in rows],
             "stay": [r["stay_days"] for r in rows],
             "tcm": [round(100 * (r["tcm_share"] or 0), 1) for r in rows]}  # fmt: skip
    context = {"year": year, "by": by, "rows": rows, "chart": chart,
               "cases": selected.select_related("institution")[:50],
               "conditions": rehab.conditions(), "can_report": _institutions(request.user, "report").exists()}  # fmt: skip
    return render(request, "care/rehab.html", context)


def _group_names(by: str, keys: list) -> dict:
    if by == "condition":
        return {c: v["zh"] for c, v in rehab.conditions().items()}
    if by == "institution":
        return dict(OrgUnit.objects.filter(code__in=keys).values_list("code", "name"))
    return {}


@login_required
def rehab_new(request):
    institutions = _institutions(request.user, "report")
    if not institutions.exists():
        raise Http404("no institution to report for")
    techniques = TechniqueItem.objects.order_by("category__position", "code")
    form = RehabCaseForm(request.POST or None, institutions=institutions, techniques=techniques)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = access.get_orgunit_for_user(request.user, data.pop("institution"), "report")
        data["outcome"] = data["outcome"] or ""
        try:
            care_actions.record_rehab_case(institution=unit, user=request.user, **data)
        except CareError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Rehabilitation case saved."))
            return redirect("care:rehab")
    return render(request, "care/rehab_form.html", {"form": form, "scales": rehab.scales()})


# ---------------------------------------------------------------------------
# Referrals
# ---------------------------------------------------------------------------


@login_required
def referrals(request, fmt: str = "html"):
    visible = referrals_rules.referrals_for_user(request.user)
    latest = visible.order_by("-referred_on").values_list("referred_on", flat=True).first()
    year = _year(request, latest.year if latest else date.today().year)
    counts = referrals_rules.monthly_counts(visible, year)
    if fmt == "csv":
        header = ["institution", "month", "sent_up", "sent_down", "received", "completed",
                  "mean_days_to_completion"]  # fmt: skip
        body = ([c["code"], f"{year}{c['month']:02d}", c["up"], c["down"], c["received"],
                 c["completed"], c["days"]] for c in counts)  # fmt: skip
        return _csv_response(f"referrals-{year}.csv", header, body)
    reporting = access.scope_q(request.user, "report", "to_institution__path")
    in_year = visible.filter(referred_on__year=year)
    query = request.GET.get("q", "").strip()[:100]  # words of either institution's name
    if query:
        names = Q(from_institution__name__contains=query) | Q(to_institution__name__contains=query)
        in_year = in_year.filter(names)
    incoming = _referral_page(request, in_year, "to_institution__path", "incoming_page")
    outgoing = _referral_page(request, in_year, "from_institution__path", "outgoing_page")
    context = {
        "year": year,
        "query": query,
        "counts": counts,
        "incoming": incoming,
        "outgoing": outgoing,
        "actionable": set(
            visible.filter(reporting, pk__in=[r.pk for r in incoming.object_list]).values_list(
                "pk", flat=True
            )
        ),
        "chart": _referral_chart(counts),
        "can_report": _institutions(request.user, "report").exists(),
        "today": date.today(),
    }
    return render(request, "care/referrals.html", context)


def _referral_page(request, referrals, side: str, param: str):
    """One page (?<param>=) of the referrals whose `side` institution the user may view."""
    chosen = referrals.filter(access.scope_q(request.user, "view", side))
    return Paginator(chosen.order_by("-referred_on", "-pk"), PAGE_SIZE).get_page(
        request.GET.get(param)
    )


def _referral_chart(counts: list[dict]) -> dict:
    months = list(range(1, 13))
    totals = {key: [0] * 12 for key in ("up", "down", "completed")}
    for c in counts:
        for key in totals:
            totals[key][c["month"] - 1] += c[key]
    return {"months": [f"{m}" for m in months], **totals}


def _referral_targets(source_units) -> list[OrgUnit]:
    counties = {"/".join(u.path.split("/")[:4]) + "/" for u in source_units}
    query = Q(pk__in=[])
    for prefix in counties:
        query |= Q(path__startswith=prefix)
    levels = referrals_rules.levels()
    return list(OrgUnit.objects.filter(query, kind="institution", closed_on=None,
                                       institution_type__in=levels).order_by("code"))  # fmt: skip


@login_required
def referral_new(request):
    sources = list(_institutions(request.user, "report").order_by("code"))
    if not sources:
        raise Http404("no institution to report for")
    form = ReferralForm(request.POST or None, sources=sources, targets=_referral_targets(sources))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        source = access.get_orgunit_for_user(request.user, data["source"], "report")
        target = OrgUnit.objects.get(code=data["target"])
        try:
            care_actions.send_referral(
                source=source, target=target, patient_id=data["patient_id"],
                referred_on=data["referred_on"], reason=data["reason"], user=request.user,
            )  # fmt: skip
        except (CareError, uploads.TooLarge) as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Referral sent."))
            return redirect("care:referrals")
    return render(request, "care/referral_form.html", {"form": form})


@login_required
@require_POST
def referral_advance(request, pk: int):
    """The receiving institution marks a referral received or completed."""
    referral = referrals_rules.referrals_for_user(request.user).filter(pk=pk).first()
    if referral is None:
        raise Http404(pk)
    if not access.can(request.user, "report", referral.to_institution):
        raise PermissionDenied(pk)
    status = request.POST.get("status", "")
    try:
        on = date.fromisoformat(request.POST.get("on", "") or date.today().isoformat())
        care_actions.advance_referral(referral, status, on)
    except (CareError, ValueError) as error:
        messages.error(request, str(error))
    else:
        label = ReferralStatus(status).label
        messages.success(request, _("Referral marked %(status)s.") % {"status": label})
    return redirect(f"{reverse('care:referrals')}?year={referral.referred_on.year}")

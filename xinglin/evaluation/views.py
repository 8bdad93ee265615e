from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser, User
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from xinglin.core import labels, limits
from xinglin.core.requests import AuthenticatedHttpRequest
from xinglin.evaluation import exports
from xinglin.evaluation import scorecard as cards
from xinglin.evaluation.engine import EvaluationError, evaluate
from xinglin.network import access
from xinglin.network.models import OrgUnit
from xinglin.standards.adoption import adopted_pack_codes
from xinglin.standards.loader import all_packs

DEFAULT_PACK = "demo-county-2022"
VALUES_PAGE = 50  # reported values per page of the data behind a figure


def _params(request: HttpRequest) -> tuple[str, OrgUnit, str, str]:
    """pack, org unit (scoped: 404 outside the user's view), period and language."""
    code = request.GET.get("orgunit")
    if not code:
        roots = access.scope_roots(request.user)
        if not roots:
            raise Http404("no org unit in scope")
        code = roots[0].code
    unit = access.find_orgunit_for_user(request.user, code)
    adopted = adopted_pack_codes(unit)
    pack = request.GET.get("pack") or (DEFAULT_PACK if DEFAULT_PACK in adopted else adopted[0])
    if pack not in all_packs():
        raise Http404(pack)
    period = request.GET.get("period") or str(date.today().year - 1)
    language = "en" if get_language() == "en" else "zh"
    return pack, unit, period, language


@login_required
def scorecard(request: AuthenticatedHttpRequest) -> HttpResponse:
    pack, unit, period, language = _params(request)
    try:
        card = cards.build(pack, unit, period, request.user, language)
    except EvaluationError as error:
        raise Http404(str(error)) from error
    filters = cards.filter_links(card.rows, request.GET)
    compact = request.GET.get("view") == "compact"
    can_rectify = unit.division_level == "county" and access.can(request.user, "manage", unit)
    context = {
        "card": card,
        "filters": filters,
        "names": card.names,
        "compact": compact,
        "unit": unit,
        "pack": card.evaluation.pack,
        "packs": [all_packs()[code] for code in adopted_pack_codes(unit)],
        "can_rectify": can_rectify,
        "period": card.evaluation.period,
        "years": [str(y) for y in range(date.today().year - 5, date.today().year + 1)],
        "ancestors": _ancestors(request.user, unit),
        "groups_json": json.dumps(card.groups),
        "trend_json": json.dumps({r.result.indicator: r.trend for r in card.rows}),
        "query": request.GET.urlencode(),
        "pickable": _pickable(request.user),
    }
    context["indicator_rows"] = _indicator_rows(card, request, context)
    return render(request, "evaluation/scorecard.html", context)


def _indicator_rows(card: cards.Scorecard, request: HttpRequest, context: dict[str, Any]) -> str:
    """The indicator table's rows, rendered once per cached scorecard and what else they
    depend on (a city's table is most of its page's CPU)."""
    filters = context["filters"]
    key: tuple[object, ...] = (filters["status"], filters["group"], filters["sort"])
    key += (context["compact"], context["can_rectify"])
    if key not in card.rendered:
        shown = cards.select(card.rows, request.GET)
        fragment = {**context, "shown": shown}
        card.rendered[key] = render_to_string("evaluation/_indicator_rows.html", fragment)
    return mark_safe(card.rendered[key])  # noqa: S308 - the template's own escaped output


def _pickable(user: User | AnonymousUser) -> list[str]:
    """Names of the divisions the user may open (the picker's suggestions: typing 花马池镇
    finds it; codes still work)."""
    units = access.orgunits_for_user(user).filter(kind="division").order_by("path")
    return list(units.values_list("name", flat=True)[:500])


def _ancestors(user: User | AnonymousUser, unit: OrgUnit) -> list[OrgUnit]:
    chain: list[OrgUnit] = []
    current = unit.parent
    while current is not None and access.can(user, "view", current):
        chain.insert(0, current)
        current = current.parent
    return chain


@login_required
def scorecard_export(request: AuthenticatedHttpRequest, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "json"):
        raise Http404(fmt)
    pack, unit, period, language = _params(request)
    try:
        results = evaluate(pack, unit, period, language=language).results
    except EvaluationError as error:
        raise Http404(str(error)) from error
    if refused := limits.too_many(len(results)):  # a province's every unit: capped (20.7)
        return refused
    content = exports.render(results, fmt)
    kind = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    response = HttpResponse(content, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="{pack}-{unit.code}-{period}.{fmt}"'
    return response


@login_required
def data(request: AuthenticatedHttpRequest) -> HttpResponse:
    pack, unit, period, language = _params(request)
    indicator_code = request.GET.get("indicator", "")
    try:
        evaluation = evaluate(pack, unit, period, language=language)
        indicator = evaluation.pack.indicator(indicator_code)
        result = evaluation.result(indicator_code)
    except (EvaluationError, StopIteration) as error:
        raise Http404(indicator_code) from error
    behind = cards.filter_behind(
        cards.data_behind(result, indicator, unit, request.user), request.GET
    )
    page = Paginator(behind.pop("values"), VALUES_PAGE).get_page(request.GET.get("page"))
    for name in ("derived", "techniques"):  # each list paged by itself (?derived_page=, …)
        behind[name] = Paginator(behind[name], VALUES_PAGE).get_page(
            request.GET.get(f"{name}_page")
        )
    context = {
        "unit": unit,
        "result": result,
        "indicator": indicator,
        "short": cards.falling_short(evaluation, result, indicator, request.user),
        "values": page.object_list,
        "page": page,
        "channels": list(labels.CHANNELS.items()),
        **behind,
    }
    return render(request, "evaluation/data.html", context)

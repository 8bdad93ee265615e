"""Indicator packs and their indicators, as shipped in standards/packs/*.yaml."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import Router

from xinglin.api.routes import responses
from xinglin.api.schemas import PackDetail, PackOut, Text
from xinglin.standards import expressions, loader

router = Router(tags=["packs and indicators"])


def pack_or_404(code: str) -> loader.Pack:
    try:
        return loader.get_pack(code)
    except KeyError:
        raise Http404(code) from None


def pack_elements(pack: loader.Pack) -> list[str]:
    """The data elements a pack's computed indicators read."""
    codes: set[str] = set()
    for indicator in pack.indicators:
        if indicator.expression is not None:
            codes.update(expressions.element_codes(indicator.expression))
    return sorted(codes)


def _summary(pack: loader.Pack) -> dict:
    return {
        "code": pack.code,
        "title_zh": pack.title_zh,
        "title_en": pack.title_en,
        "source": pack.source,
        "indicators": len(pack.indicators),
    }


def _indicator(indicator: loader.PackIndicator) -> dict:
    expression = indicator.expression
    return {
        "id": indicator.id,
        "item": indicator.item,
        "section": indicator.section,
        "name_zh": indicator.name_zh,
        "name_en": indicator.name_en,
        "kind": indicator.kind,
        "over": list(indicator.over),
        "value": indicator.value,
        "target": str(indicator.target.text) if indicator.target is not None else "",
        "unit": indicator.unit,
        "deadline": indicator.deadline,
        "veto": indicator.veto,
        "points": indicator.points,
        "source": indicator.source,
        "elements": expressions.element_codes(expression) if expression is not None else [],
    }


@router.get("", response=responses(list[PackOut]), summary="List indicator packs")
def list_packs(request: HttpRequest) -> list[dict]:
    return [_summary(p) for _code, p in sorted(loader.all_packs().items())]


@router.get("/{code}", response=responses(PackDetail), summary="One pack with its indicators")
def get_pack(request: HttpRequest, code: Text) -> dict:
    pack = pack_or_404(code)
    return {**_summary(pack), "items": [_indicator(i) for i in pack.indicators]}

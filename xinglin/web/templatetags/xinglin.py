"""Template filters shared by every app's pages: the words of `xinglin.core.labels` (one
place for them), so that no template shows a code where a person reads."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from xinglin.care.labels import CONSTITUTION_LABELS
from xinglin.core import labels
from xinglin.network.models import OrgUnit
from xinglin.standards.labels import source as cited_source
from xinglin.standards.loader import all_packs

register = template.Library()

STATUS_LABELS = labels.STATUSES  # kept for code that imported it from here


def _expression(result) -> str:
    pack = all_packs().get(getattr(result, "pack", ""))
    if pack is None:
        return ""
    try:
        return pack.indicator(result.indicator).value
    except StopIteration:
        return ""


@register.filter
def status_label(status: str) -> str:
    """The reader's words for an engine status (`not_met` → 未达标)."""
    return labels.status_label(status)


@register.filter
def status_icon(status: str) -> str:
    return labels.status_icon(status)


@register.filter
def status_badge(status: str) -> str:
    """A status as shape + words + colour (never colour alone)."""
    return format_html(
        '<span class="status status-{}"><span class="shape" aria-hidden="true">{}</span> {}</span>',
        status,
        labels.status_icon(status),
        labels.status_label(status),
    )


@register.filter
def shown_value(result) -> str:
    return labels.number(result.value, result.unit, _expression(result))


@register.filter
def shown_target(result) -> str:
    return labels.target(result.target, result.unit, _expression(result))


@register.filter
def shown_gap(result) -> str:
    return labels.gap(result.gap, result.unit, _expression(result))


@register.filter
def source_label(text: str) -> str:
    return cited_source(text)


@register.filter
def group_label(indicator_id: str) -> str:
    return labels.group_label(indicator_id)


@register.filter
def person(user) -> str:
    return labels.person(user)


@register.filter
def channel_label(code: str) -> str:
    return labels.label(labels.CHANNELS, code)


@register.filter
def source_kind(code: str) -> str:
    return labels.label(labels.SOURCES, code)


@register.filter
def plan_state(code: str) -> str:
    return labels.label(labels.PLAN_STATES, code)


@register.filter
def submission_state(code: str) -> str:
    return labels.label(labels.SUBMISSION_STATES, code)


@register.filter
def event_label(code: str) -> str:
    return labels.label(labels.EVENTS, code)


@register.filter
def target_text(text: str, unit: str = "") -> str:
    """A target written by a pack (">= 35%") as people write it (≥ 35%)."""
    return labels.target(text, unit)


@register.filter
def get_item(mapping: dict, key: str):
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def source_section(text: str) -> str:
    """Only the section of a source (`三(二)2`), where the page already names the document. A
    source citing more than one place (`…§三(四)23; the standard's figure as stated in …`) shows
    its first: the others stay in the pack, for the "how it is computed" detail."""
    first = text.split(";")[0]
    return first.partition("§")[2].strip() if "§" in first else cited_source(first)


@register.filter
def pack_title(code: str) -> str:
    """A pack by its document's title, never by its code."""

    pack = all_packs().get((code or "").split("/")[0])
    if pack is None:
        return labels.label({}, code)
    return pack.title("en" if labels._english() else "zh")


@register.filter
def figure(value, unit: str = "") -> str:
    """A bare number in an indicator's unit (a percentage stored as a fraction shows as %)."""
    if value in (None, ""):
        return "—"
    return labels.number(float(value), unit)


def _indicator(ref: str):
    pack_code, _slash, indicator_id = (ref or "").partition("/")
    pack = all_packs().get(pack_code)
    return next((i for i in pack.indicators if i.id == indicator_id), None) if pack else None


@register.filter
def value_for(value, ref: str) -> str:
    """A value of the indicator `pack/id` in that indicator's unit (0.928571429 → 92.9%)."""
    if value in (None, ""):
        return "—"
    indicator = _indicator(ref)
    if indicator is None:
        return labels.number(float(value), "")
    return labels.number(float(value), indicator.unit, indicator.value)


@register.filter
def target_for(text: str, ref: str) -> str:
    """A target of the indicator `pack/id` as people write it."""
    indicator = _indicator(ref)
    if indicator is None:
        return labels.target(text or "", "")
    return labels.target(text or "", indicator.unit, indicator.value)


@register.filter
def split_words(text: str) -> list[str]:
    return text.split()


@register.filter
def field_named(form, name: str):
    return form[name]


@register.filter
def unit_name(code: str) -> str:
    """An org unit's name for its code (the code only when no unit has it)."""

    return OrgUnit.objects.filter(code=code).values_list("name", flat=True).first() or code


@register.filter
def citation_label(text: str) -> str:
    """`demo-county-2022 surveys.satisfaction_rate: seeds/001….txt §三(七)37` (how survey
    instruments cite their target) → the indicator's name and the document's title and
    section."""
    head, _colon, rest = (text or "").partition(": ")
    pack_code, _space, indicator_id = head.partition(" ")
    indicator = _indicator(f"{pack_code}/{indicator_id}")
    if indicator is None:
        return cited_source(text)
    name = indicator.name("en" if labels._english() else "zh")
    return f"{name} · {cited_source(indicator.source)}"


@register.filter
def constitution_types(codes) -> str:
    """Constitution types by name (qi_deficiency → 气虚质), joined as a list is read."""

    return "、".join(labels.label(CONSTITUTION_LABELS, code) for code in codes or [])

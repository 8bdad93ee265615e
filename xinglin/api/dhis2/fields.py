"""DHIS2's list conventions for metadata: `fields` (names, `*`/`:all`, one level of nested
`name[sub,fields]`), `filter=property:operator:value` (eq, !eq, ne, in, !in, like, !like,
ilike, ^like, like$, null, !null; several filters all apply) and paging (`page`, `pageSize`,
`paging=false`) with DHIS2's `pager`."""

from __future__ import annotations

import math

from django.utils.translation import gettext as _

from xinglin.api.dhis2.params import ParamError, Params

# totalPages: older DHIS2 counted pages only when asked (dhis2.py asks); the pager always has them.
LIST_PARAMS = frozenset({"fields", "filter", "paging", "page", "pageSize", "totalPages"})
MAX_PAGE_SIZE = 1000


def select(item: dict, fields: str | None, default: str) -> dict:
    spec = _split(fields or default)
    if any(name in ("*", ":all", ":owner") for name, _sub in spec):
        return item
    selected = {}
    for name, sub in spec:
        if name in (":identifiable", ":nameable"):
            selected.update(
                {k: item[k] for k in ("id", "code", "name", "displayName") if k in item}
            )
        elif name in item:
            selected[name] = _nested(item[name], sub) if sub else item[name]
    return selected


def _nested(value, sub: str):
    if isinstance(value, list):
        return [select(v, sub, sub) if isinstance(v, dict) else v for v in value]
    return select(value, sub, sub) if isinstance(value, dict) else value


def _split(spec: str) -> list[tuple[str, str]]:
    """`id,name,children[id,name]` -> [(id, ""), (name, ""), (children, "id,name")]."""
    parts, depth, current = [], 0, ""
    for char in spec + ",":
        if char == "," and depth == 0:
            if current.strip():
                name, _bracket, sub = current.strip().partition("[")
                parts.append((name.strip(), sub[:-1] if sub.endswith("]") else sub))
            current = ""
            continue
        depth += {"[": 1, "]": -1}.get(char, 0)
        current += char
    return parts


def _property(item: dict, path: str):
    value = item
    for step in path.split("."):
        value = value.get(step) if isinstance(value, dict) else None
    return value


def _matches(value, operator: str, operand: str) -> bool:
    text = "" if value is None else str(value).lower()
    operand_l = operand.lower()
    tests = {
        "eq": lambda: text == operand_l,
        "ieq": lambda: text == operand_l,
        "!eq": lambda: text != operand_l,
        "ne": lambda: text != operand_l,
        "like": lambda: operand_l in text,
        "ilike": lambda: operand_l in text,
        "!like": lambda: operand_l not in text,
        "^like": lambda: text.startswith(operand_l),
        "like$": lambda: text.endswith(operand_l),
        "in": lambda: text in _members(operand_l),
        "!in": lambda: text not in _members(operand_l),
        "null": lambda: value in (None, ""),
        "!null": lambda: value not in (None, ""),
    }
    if operator not in tests:
        raise ParamError(
            _("filter operator “%(op)s” is not supported; use one of: %(ops)s")
            % {"op": operator, "ops": ", ".join(tests)}
        )
    return tests[operator]()


def _members(operand: str) -> set[str]:
    return {part.strip() for part in operand.strip("[]").split(",")}


def filtered(items: list[dict], params: Params) -> list[dict]:
    for spec in params.query.getlist("filter"):
        path, _colon, rest = spec.partition(":")
        operator, _colon, operand = rest.partition(":")
        if not path or not operator:
            raise ParamError(_("filter “%(spec)s” is not property:operator:value") % {"spec": spec})
        items = [item for item in items if _matches(_property(item, path), operator, operand)]
    return items


def listing(key: str, items: list[dict], params: Params, default_fields: str) -> dict:
    """DHIS2's list answer: {pager, <key>: [...]}, or all items with paging=false."""
    items = filtered(items, params)
    fields = params.text("fields")
    params.boolean("totalPages", True)
    if not params.boolean("paging", True):
        return {key: [select(item, fields, default_fields) for item in items]}
    size = params.integer("pageSize", 50, 1, MAX_PAGE_SIZE)
    count = max(1, math.ceil(len(items) / size))
    page = params.integer("page", 1, 1, 10**6)
    shown = items[(page - 1) * size : page * size]
    pager = {"page": page, "pageCount": count, "total": len(items), "pageSize": size}
    return {"pager": pager, key: [select(item, fields, default_fields) for item in shown]}

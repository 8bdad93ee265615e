"""Read-only metadata as DHIS2 shapes it, enough for a client to map its identifiers to ours:
`id` is the DHIS2 UID from the code mapping (`xinglin load-code-mapping`; our code where
there is none), `code` our code. Org units are those of the caller's view scope; data sets
are the indicator packs (the elements their indicators read)."""

from __future__ import annotations

from collections import Counter
from importlib.metadata import PackageNotFoundError, version

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import get_language

from xinglin.api.dhis2.fields import LIST_PARAMS, listing, select
from xinglin.api.dhis2.params import Params
from xinglin.api.dhis2.schemes import element_name, uids
from xinglin.api.routes.packs import pack_elements
from xinglin.network import access
from xinglin.network.models import OrgUnit
from xinglin.standards import loader
from xinglin.standards.models import DataElement

# The DHIS2 Web API generation whose shapes this face answers in (system/info `version`).
DHIS2_VERSION = "2.40.0"
DEFAULT_CATEGORY_COMBO = {"id": "bjDvmb4bfuf", "name": "default"}
VALUE_TYPES = {
    "integer": "INTEGER",
    "number": "NUMBER",
    "boolean": "BOOLEAN",
    "percent": "NUMBER",
}  # fmt: skip  percentages travel as fractions (0.35)
AGGREGATION = {"sum": "SUM", "average": "AVERAGE", "last": "LAST", "max": "MAX", "min": "MIN"}
PERIOD_TYPES = [
    {"name": "Monthly", "isoDuration": "P1M", "isoFormat": "yyyyMM", "frequencyOrder": 30},
    {"name": "Quarterly", "isoDuration": "P3M", "isoFormat": "yyyyQn", "frequencyOrder": 91},
    {"name": "Yearly", "isoDuration": "P1Y", "isoFormat": "yyyy", "frequencyOrder": 365},
]
PERIOD_NAMES = {"monthly": "Monthly", "quarterly": "Quarterly", "yearly": "Yearly"}
DEFAULT_FIELDS = "id,code,name,displayName"


def system_info() -> dict:
    now = timezone.now()
    return {
        "version": DHIS2_VERSION,
        "revision": "xinglin",
        "systemName": "Xinglin 杏林",
        "xinglinVersion": _version(),
        "serverDate": now.isoformat(timespec="milliseconds"),
        "serverTimeZoneId": settings.TIME_ZONE,
        "calendar": "iso8601",
        "dateFormat": "yyyy-mm-dd",
    }


def _version() -> str:
    try:
        return version("xinglin")
    except PackageNotFoundError:
        return ""


def me(user: User, query) -> dict:
    params = Params(query, frozenset({"fields"}))
    mapping = uids()
    roots = access.scope_roots(user)
    units = [{"id": mapping.orgunit_out(u.code), "code": u.code, "name": u.name} for u in roots]
    name = user.get_full_name() or user.username
    item = {
        "id": user.username,
        "username": user.username,
        "name": name,
        "displayName": name,
        "firstName": user.first_name,
        "surname": user.last_name,
        "organisationUnits": units,
        "dataViewOrganisationUnits": units,
        "settings": {"keyUiLocale": (get_language() or "zh-hans")[:2]},
    }
    return select(item, params.text("fields"), "*")


def data_elements(query) -> dict:
    params = Params(query, LIST_PARAMS)
    mapping = uids()
    items = [
        {
            "id": mapping.element_out(e.code),
            "code": e.code,
            "name": element_name(e),
            "displayName": element_name(e),
            "shortName": element_name(e)[:50],
            "valueType": VALUE_TYPES.get(e.value_type, "NUMBER"),
            "aggregationType": AGGREGATION.get(e.aggregation, "SUM"),
            "domainType": "AGGREGATE",
            "periodType": PERIOD_NAMES.get(e.period_type, e.period_type),
            "categoryCombo": DEFAULT_CATEGORY_COMBO,
        }
        for e in DataElement.objects.order_by("code")
    ]
    return listing("dataElements", items, params, DEFAULT_FIELDS)


ORGUNIT_PARAMS = LIST_PARAMS | {"level"}


def organisation_units(user: User, query) -> dict:
    params = Params(query, ORGUNIT_PARAMS)
    mapping = uids()
    units = list(access.orgunits_for_user(user).order_by("path"))
    level = params.text("level")
    if level is not None:
        wanted = params.integer("level", 1, 1, 20)
        units = [u for u in units if u.depth + 1 == wanted]
    items = [_orgunit(u, mapping) for u in units]
    children = {}
    for unit in units:
        if unit.parent_id is not None:
            children.setdefault(unit.parent_id, []).append({"id": mapping.orgunit_out(unit.code)})
    for unit, item in zip(units, items, strict=True):
        item["children"] = children.get(unit.pk, [])
    return listing("organisationUnits", items, params, DEFAULT_FIELDS)


def _orgunit(unit: OrgUnit, mapping) -> dict:
    ancestors = [code for code in unit.path.strip("/").split("/") if code]
    item = {
        "id": mapping.orgunit_out(unit.code),
        "code": unit.code,
        "name": unit.name,
        "shortName": unit.name[:50],
        "displayName": unit.name,
        "level": unit.depth + 1,
        "path": "/" + "/".join(mapping.orgunit_out(code) for code in ancestors),
        "openingDate": unit.opened_on.isoformat() if unit.opened_on else None,
        "closedDate": unit.closed_on.isoformat() if unit.closed_on else None,
    }
    if len(ancestors) > 1:
        item["parent"] = {"id": mapping.orgunit_out(ancestors[-2])}
    return item


def data_sets(query) -> dict:
    params = Params(query, LIST_PARAMS)
    mapping = uids()
    language = "en" if (get_language() or "").startswith("en") else "zh"
    kinds = dict(DataElement.objects.values_list("code", "period_type"))
    items = []
    for code, pack in sorted(loader.all_packs().items()):
        elements = [c for c in pack_elements(pack) if c in kinds]
        common = Counter(kinds[c] for c in elements).most_common(1)
        items.append({
            "id": code,
            "code": code,
            "name": pack.title(language),
            "displayName": pack.title(language),
            "periodType": PERIOD_NAMES.get(common[0][0], "Yearly") if common else "Yearly",
            "categoryCombo": DEFAULT_CATEGORY_COMBO,
            "dataSetElements": [{"dataElement": {"id": mapping.element_out(c), "code": c}}
                                for c in elements],
        })  # fmt: skip
    return listing("dataSets", items, params, DEFAULT_FIELDS)


def period_types(query) -> dict:
    Params(query, frozenset({"fields"}))
    return {"periodTypes": PERIOD_TYPES}

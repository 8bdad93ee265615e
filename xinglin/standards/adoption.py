"""Which packs an org unit is judged against."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import yaml

from xinglin.network.models import OrgUnit
from xinglin.standards.loader import PLAN_PACKS_DIR, all_packs, get_pack
from xinglin.standards.models import PackAdoption


class AdoptionError(ValueError):
    pass


def adopt_pack(orgunit: OrgUnit, pack_code: str, since: int | None = None) -> PackAdoption:
    try:
        get_pack(pack_code)
    except KeyError as error:
        raise AdoptionError(error.args[0]) from error
    adoption, _created = PackAdoption.objects.update_or_create(
        orgunit=orgunit, pack_code=pack_code, defaults={"since": since}
    )
    return adoption


def adopted_pack_codes(orgunit: OrgUnit) -> list[str]:
    """Packs adopted by the unit, by a unit above it (they apply beneath) or by a unit beneath
    it (a city compares its counties on their packs). With no adoption recorded anywhere in
    that line, every pack applies (a fresh instance still shows all its standards)."""
    ancestors = [code for code in orgunit.path.strip("/").split("/") if code]
    codes = set(
        PackAdoption.objects.filter(orgunit__code__in=ancestors).values_list("pack_code", flat=True)
    ) | set(
        PackAdoption.objects.filter(orgunit__path__startswith=orgunit.path).values_list(
            "pack_code", flat=True
        )
    )
    known = sorted(all_packs())
    return [code for code in known if code in codes] if codes else known


@dataclass(frozen=True)
class DocumentPlace:
    """The jurisdiction a policy document was issued for (its plan pack's `division`)."""

    code: str
    name: str


@functools.lru_cache(maxsize=1)
def _document_places() -> dict[str, DocumentPlace]:
    places = {}
    for path in sorted(PLAN_PACKS_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        division = data.get("division") or {}
        if data.get("plan") and division.get("code"):
            places[str(data["plan"])] = DocumentPlace(str(division["code"]), division.get("zh", ""))
    return places


def document_place(pack_code: str) -> DocumentPlace | None:
    """Whose document the pack is (None for a pack that names no place)."""
    return _document_places().get(pack_code)


def adoptions_of(orgunit: OrgUnit) -> list[PackAdoption]:
    """The adoptions that judge the unit: its own and those of the units above it."""
    line = [code for code in orgunit.path.strip("/").split("/") if code]
    return list(
        PackAdoption.objects.filter(orgunit__code__in=line)
        .select_related("orgunit")
        .order_by("orgunit__path", "pack_code")
    )

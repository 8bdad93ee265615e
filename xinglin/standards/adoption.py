"""Which packs an org unit is judged against."""

from __future__ import annotations

from xinglin.network.models import OrgUnit
from xinglin.standards.loader import all_packs, get_pack
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

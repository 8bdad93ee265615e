"""Translation between our codes and another system's identifiers (CodeMapping rows)."""

from __future__ import annotations

from dataclasses import dataclass, field

from xinglin.api.models import CodeMapping, MappingKind


@dataclass
class CodeMap:
    """Both directions for one scheme. Codes without a row pass through unchanged, so a file
    using our own codes works with or without a mapping."""

    outward: dict[tuple[str, str], str] = field(default_factory=dict)
    inward: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def load(cls, scheme: str = "dhis2") -> CodeMap:
        result = cls()
        for kind, code, external in CodeMapping.objects.filter(scheme=scheme).values_list(
            "kind", "code", "external"
        ):
            result.outward[(kind, code)] = external
            result.inward[(kind, external)] = code
        return result

    def element_out(self, code: str) -> str:
        return self.outward.get((MappingKind.ELEMENT, code), code)

    def orgunit_out(self, code: str) -> str:
        return self.outward.get((MappingKind.ORGUNIT, code), code)

    def element_in(self, external: str) -> str:
        return self.inward.get((MappingKind.ELEMENT, external), external)

    def orgunit_in(self, external: str) -> str:
        return self.inward.get((MappingKind.ORGUNIT, external), external)

    def combo_out(self, code: str) -> str:
        return self.outward.get((MappingKind.COMBO, code), code)

    def combo_in(self, external: str) -> str:
        return self.inward.get((MappingKind.COMBO, external), external)


def operand_in(codes, text: str) -> str:
    """An operand as another system names it (`element.combo`, standards.categories) in our
    codes: the element through `codes.element_in`, the combination through `combo_in`."""
    element, _dot, combo = text.partition(".")
    element = codes.element_in(element)
    return f"{element}.{codes.combo_in(combo)}" if combo else element

"""Categories (disaggregation, issue 18.9, decision 0013): the catalogue of categories and their
options (packs/core.yaml `categories:`), and the option combinations of an element that
declares some (`DataElement.categories`).

A value of a categorised element is stored per option combination (`DataValue.combo`, the
combination's code: its option codes joined by "_" in the element's order of categories); a
value of any other element has the default combination "" (its total). Inside the write path
a value's element and combination travel as one text, the *operand* `element.combo` (DHIS2's
notation for a data element operand): `operand("elderly_tcm_managed", "F")` is
`elderly_tcm_managed.F`, and `split` reads it back."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.utils.translation import get_language

from xinglin.standards import expressions as ex
from xinglin.standards.paths import CORE_FILE

DEFAULT = ""  # the default combination: the value of an element without categories
SEPARATOR = "."  # between an element code and a combination code in an operand
JOIN = "_"  # between option codes in a combination code


@dataclass(frozen=True)
class Option:
    code: str
    name_zh: str
    name_en: str

    @property
    def name(self) -> str:
        return self.name_en if get_language() == "en" and self.name_en else self.name_zh


@dataclass(frozen=True)
class Category:
    code: str
    name_zh: str
    name_en: str
    options: tuple[Option, ...]

    @property
    def name(self) -> str:
        return self.name_en if get_language() == "en" and self.name_en else self.name_zh

    def option(self, code: str) -> Option | None:
        return next((o for o in self.options if o.code == code), None)


@dataclass(frozen=True)
class Combo:
    """One option combination of an element's categories (one option of each)."""

    options: tuple[Option, ...]

    @property
    def code(self) -> str:
        return JOIN.join(o.code for o in self.options)

    @property
    def name(self) -> str:
        return "，".join(o.name for o in self.options)


def _text(mapping: dict[str, str] | str | None, language: str) -> str:
    if isinstance(mapping, dict):
        return str(mapping.get(language, ""))
    return str(mapping or "")


def read_categories(path: Path = CORE_FILE) -> dict[str, Category]:
    """The category catalogue of core.yaml, by code."""
    with open(path, encoding="utf-8") as handle:
        core = yaml.safe_load(handle)
    found = {}
    for entry in core.get("categories") or []:
        options = tuple(
            Option(str(o["code"]), str(o.get("zh", "")), str(o.get("en", "")))
            for o in entry["options"]
        )
        found[entry["code"]] = Category(
            entry["code"], _text(entry.get("name"), "zh"), _text(entry.get("name"), "en"), options
        )
    return found


@functools.cache
def catalogue() -> dict[str, Category]:
    return read_categories()


@functools.cache
def split_elements(path: Path = CORE_FILE) -> dict[str, tuple[str, ...]]:
    """Element code -> its categories, for the elements that declare some (core.yaml, as
    DataElement rows hold them after `sync_data_elements`; read without the database: the
    warehouse's element table carries no categories, and ADX reads before it writes)."""
    with open(path, encoding="utf-8") as handle:
        core = yaml.safe_load(handle)
    return {e["code"]: tuple(e["categories"]) for e in core["data_elements"] if e.get("categories")}


def categorised() -> frozenset[str]:
    """The codes of the elements that declare categories: the engine totals their option
    combinations on every backend."""
    return frozenset(split_elements())


def categories_of(codes: Sequence[str]) -> list[Category]:
    return [catalogue()[code] for code in codes]


def combos(codes: Sequence[str]) -> list[Combo]:
    """The option combinations of categories `codes` (the element's `categories`), in the
    catalogue's order; [] for none."""
    if not codes:
        return []
    return [
        Combo(options) for options in itertools.product(*(c.options for c in categories_of(codes)))
    ]


def combo_of_code(codes: Sequence[str], combo_code: str) -> Combo | None:
    """The combination `combo_code` of categories `codes`, or None when it is not one."""
    return next((c for c in combos(codes) if c.code == combo_code), None)


def combo_from_options(codes: Sequence[str], chosen: dict[str, str]) -> str | None:
    """The combination code for {category code: option code} (ADX attributes), or None when
    a category is missing, unknown to the element, or its option unknown."""
    if set(chosen) != set(codes):
        return None
    parts = []
    for category in categories_of(codes):
        if category.option(chosen[category.code]) is None:
            return None
        parts.append(chosen[category.code])
    return JOIN.join(parts)


def stratum_combos(codes: Sequence[str], stratum: dict[str, str]) -> list[str] | None:
    """The combinations of categories `codes` that fall in `stratum` ({category code: option
    code}, e.g. {"sex": "F"}): those whose options match every category of the stratum. None
    when the element has none of the stratum's categories (its total counts whole); a
    category of the stratum that the element lacks leaves that category unrestricted."""
    wanted = {c: o for c, o in stratum.items() if c in codes}
    if not wanted:
        return None
    return [
        combo.code
        for combo in combos(codes)
        if all(options_of(codes, combo.code)[c] == o for c, o in wanted.items())
    ]


def check_stratum(stratum: dict[str, str]) -> None:
    """Refuse a stratum whose category or option the catalogue does not have (ValueError)."""
    for code, option in stratum.items():
        category = catalogue().get(code)
        if category is None:
            raise ValueError(f"unknown category {code!r}: one of {', '.join(catalogue())}")
        if category.option(option) is None:
            known = ", ".join(o.code for o in category.options)
            raise ValueError(f"unknown option {option!r} of category {code!r}: one of {known}")


# the aggregates whose figure over a category's options adds up to the total (max and min do not)
ADDITIVE = ("sum", "own")


def shared_by(elements: Sequence[str]) -> list[str]:
    """The categories every one of `elements` (codes) is split by, in the catalogue's order;
    [] when one of them is not split, or there are none."""
    split = split_elements()
    if not elements or any(code not in split for code in elements):
        return []
    return [c for c in catalogue() if all(c in split[code] for code in elements)]


def _adds_up(node: ex.Node) -> bool:
    """Whether a figure is a count that adds up over a category's options: sums and
    differences of sum()/own() of elements. A share (a count of institutions meeting a
    condition), max/min, products, quotients and constants do not add up."""
    for item in ex.walk(node):
        if isinstance(item, ex.Aggregate) and item.func in ADDITIVE:
            continue
        if isinstance(item, ex.Binary) and item.op in ("+", "-") or isinstance(item, ex.Negate):
            continue
        return False
    return True


def of_indicator(expression: ex.Node | None) -> list[str]:
    """The categories an indicator can be stratified by (decision 0015): those every element
    of its numerator — the quotient's numerator (`expressions.split`), or the whole figure of
    one that is no quotient — is split by, when that numerator adds up over the options (so
    its strata add up to it). [] for a share, a figure over elements without categories, or
    one whose elements do not all share a category."""
    if expression is None or isinstance(expression, ex.Share):
        return []
    numerator, _denominator, _scale = ex.split(expression)
    if not _adds_up(numerator):
        return []
    return shared_by(ex.element_codes(numerator))


def scored_within(expression: ex.Node, category: str) -> bool:
    """Whether the indicator's score has a meaning within one option of `category`: every
    element its denominator reads is split by it too (so a stratum's rate is the stratum's),
    or it is no quotient. A rate over a denominator that is not split (residents 65+) is not
    the rate of the women: only its numerator is stratified."""
    _numerator, denominator, _scale = ex.split(expression)
    return denominator is None or category in shared_by(ex.element_codes(denominator))


def options_of(codes: Sequence[str], combo_code: str) -> dict[str, str]:
    """{category code: option code} of a combination (ADX attributes)."""
    return dict(zip(codes, combo_code.split(JOIN), strict=True))


def operand(element: str, combo: str) -> str:
    """The write path's element text of a value: `element` or `element.combo`."""
    return f"{element}{SEPARATOR}{combo}" if combo else element


def split(text: str) -> tuple[str, str]:
    """(element code, combination code) of an operand; the combination "" when none."""
    element, _dot, combo = text.partition(SEPARATOR)
    return element, combo


def combo_name_in(codes: Sequence[str], combo_code: str, language: str) -> str:
    """The combination's name in `language` ("zh" or "en"), whatever the request's."""
    combo = combo_of_code(codes, combo_code)
    if combo is None:
        return combo_code
    return "，".join(
        o.name_en if language == "en" and o.name_en else o.name_zh for o in combo.options
    )


def combo_name(codes: Sequence[str], combo_code: str) -> str:
    """The combination's name in words (女, or 女，65岁及以上); the code if unknown."""
    combo = combo_of_code(codes, combo_code)
    return combo.name if combo else combo_code

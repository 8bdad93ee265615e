"""Operands (decision 0013): a data element with one of its category option combinations, as
the write path, the forms and the templates carry a value of a categorised element. Beside
the catalogue (`standards.categories`), which the models read, because an operand wraps a
model: the catalogue stands below the models, operands above them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from xinglin.standards.categories import DEFAULT, combo_name, operand
from xinglin.standards.models import DataElement


class Operand:
    """A data element with one of its category option combinations, as the write path, the
    forms and the template carry a value of a categorised element: its `code` is the operand
    text (`elderly_tcm_managed.F`), `combo` the combination, `name` the element's name with
    the combination's (接受…居民数（女）); everything else is the element's."""

    def __init__(self, element: DataElement, combo: str) -> None:
        self.element, self.combo = element, combo
        self.code = operand(element.code, combo)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.element, name)

    def __repr__(self) -> str:
        return self.code

    @property
    def combo_name(self) -> str:
        return combo_name(self.element.categories, self.combo)

    @property
    def name(self) -> str:
        return f"{self.element.name}（{self.combo_name}）"


def element_of(item: DataElement | Operand) -> DataElement:
    """The DataElement of a write path's element (a DataElement or an Operand)."""
    return item.element if isinstance(item, Operand) else item


def combo_of(item: DataElement | Operand) -> str:
    return item.combo if isinstance(item, Operand) else DEFAULT


def expand(elements: Iterable[DataElement]) -> list[DataElement | Operand]:
    """Each element, or, for one with categories, an Operand per option combination (the
    fields of a form, the columns of a template)."""
    found: list[DataElement | Operand] = []
    for element in elements:
        if element.categories:
            found += [Operand(element, c.code) for c in element.combos()]
        else:
            found.append(element)
    return found

"""The sentence templates of drafted documents, read from the YAML files beside this module:
`<kind>.<language>.yaml` (annual, evaluation — mid-term and final share one — in zh and en).
A kind's file may name a `base` file whose entries it extends or overrides."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

DIRECTORY = Path(__file__).parent
LANGUAGES = ("zh", "en")
FILES = {"annual": "annual", "midterm": "evaluation", "final": "evaluation"}


class TemplateError(KeyError):
    """A template the drafting code asks for is missing from the YAML file."""


def _merge(base: dict, over: dict) -> dict:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@functools.cache
def _load(name: str, language: str) -> dict[str, Any]:
    path = DIRECTORY / f"{name}.{language}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    base = data.pop("base", None)
    return _merge(_load(base, language), data) if base else data


class Templates:
    """The templates of one document kind in one language."""

    def __init__(self, kind: str, language: str = "zh"):
        if language not in LANGUAGES:
            language = "zh"
        self.language = language
        self.data = _load(FILES[kind], language)

    def raw(self, path: str) -> Any:
        node: Any = self.data
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                raise TemplateError(f"{path} (in {self.language} templates)")
            node = node[part]
        return node

    def say(self, path: str, **values: object) -> str:
        return str(self.raw(path)).format(**values)

    def join(self, items: list[str]) -> str:
        return str(self.data.get("list_separator", "、")).join(items)

    @property
    def end(self) -> str:
        return str(self.data.get("sentence_end", "。"))

    @property
    def comma(self) -> str:
        return str(self.data.get("separator", "，"))

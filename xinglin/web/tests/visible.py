"""What a person reads on a page: the text outside tags, scripts, styles and the "how it is
computed" details (where codes and expressions are shown on purpose), and the internal codes
that must never appear in it."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from xinglin.network.models import OrgUnit
from xinglin.standards.loader import all_packs
from xinglin.standards.models import DataElement

_HIDDEN = {"script", "style", "template", "datalist", "head"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        hidden = tag in _HIDDEN or (tag == "details" and "how" in (attributes.get("class") or ""))
        if tag in ("input", "br", "img", "meta", "link", "hr"):
            return
        if self._skip or hidden:
            self._skip.append(tag)

    def handle_endtag(self, tag):
        # close up to the matching tag: elements whose end tag HTML lets one omit (<option>,
        # <li>, <p>) must not keep the rest of the page hidden
        if tag in self._skip:
            while self._skip.pop() != tag:
                pass

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts)).strip()


_STATUS_CODES = ("not_met", "no_data", "not_applicable", "awaiting_evidence", "data_error")
_ALWAYS = ("share(", "per_10000(", "seeds/", ">=", "<=", "own(", "count(")


def internal_codes(text: str, usernames: list[str] = ()) -> list[str]:
    """Every internal code found in a page's visible text: status codes, expressions, pack
    and element codes, indicator ids, 12-digit institution codes, `seeds/` file names,
    `>=`, and the usernames given."""
    found = [c for c in (*_STATUS_CODES, *_ALWAYS) if c in text]
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_.\-]*", text))
    packs = set(all_packs())
    found += sorted(words & packs)
    elements = {c for c in DataElement.objects.values_list("code", flat=True) if "_" in c}
    found += sorted(words & elements)
    indicator_ids = {i.id for p in all_packs().values() for i in p.indicators}
    found += sorted(words & indicator_ids)
    institutions = set(OrgUnit.objects.filter(kind="institution").values_list("code", flat=True))
    found += sorted(set(re.findall(r"\b\d{12}\b", text)) & institutions)
    found += [u for u in usernames if re.search(rf"(?<![\w-]){re.escape(u)}(?![\w-])", text)]
    return found

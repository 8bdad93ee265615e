"""What each narrative section says: the officer's kept paragraphs (DraftParagraph rows) where
the section has been drafted and kept, else the live draft; each with its sources and whether
the data behind it has changed since it was drafted (stale)."""

from __future__ import annotations

from dataclasses import dataclass, field

from xinglin.documents.drafting.draft import Drafted, draft
from xinglin.documents.gather import ReportData
from xinglin.documents.models import DraftParagraph


@dataclass
class ShownParagraph:
    section: str
    key: str
    text: str
    sentences: list[dict]  # [{"text", "sources": [{"kind", "ref", "label", "url"}]}]
    stored: bool  # kept in the narrative store (else: the live draft, not yet kept)
    edited: bool = False  # the officer changed the drafted text
    stale: bool = False  # the data behind it changed since it was drafted
    new: bool = False  # in the live draft but not among the section's kept paragraphs
    live_text: str = ""  # what a redraft would say now

    @property
    def sources(self) -> list[dict]:
        seen: dict[str, dict] = {}
        for sentence in self.sentences:
            for source in sentence["sources"]:
                seen.setdefault(f"{source['kind']}:{source['ref']}", source)
        return list(seen.values())

    @property
    def source_labels(self) -> str:
        return "\n".join(s["label"] for s in self.sources)


@dataclass
class Section:
    key: str
    paragraphs: list[ShownParagraph] = field(default_factory=list)

    @property
    def printed(self) -> list[str]:
        """The texts the document prints: kept paragraphs (not the new, unkept ones)."""
        return [p.text for p in self.paragraphs if not p.new and p.text.strip()]

    @property
    def kept(self) -> bool:
        return any(p.stored for p in self.paragraphs)


def _live(paragraph: Drafted, *, new: bool = False) -> ShownParagraph:
    return ShownParagraph(paragraph.section, paragraph.key, paragraph.text,
                          paragraph.sentences_json(), stored=False, new=new,
                          live_text=paragraph.text)  # fmt: skip


def _kept(row: DraftParagraph, live: Drafted | None) -> ShownParagraph:
    stale = live is None or live.fingerprint != row.fingerprint
    return ShownParagraph(
        row.section, row.key, row.text, _marked(row.sources, live) if stale else row.sources,
        stored=True, edited=row.edited, stale=stale, live_text=live.text if live else "",
    )  # fmt: skip


def _marked(sentences: list[dict], live: Drafted | None) -> list[dict]:
    """The kept sentences, each marked stale when a source it cites now has another state
    (or is no longer cited by the live draft)."""
    now = {f"{s.kind}:{s.ref}": s.state for s in live.sources} if live else {}
    marked = []
    for sentence in sentences:
        changed = any(now.get(f"{s['kind']}:{s['ref']}") != s.get("state")
                      for s in sentence["sources"])  # fmt: skip
        marked.append({**sentence, "stale": changed})
    return marked


def sections(data: ReportData, drafted: list[Drafted] | None = None) -> dict[str, Section]:
    """Per narrative section of the report: the paragraphs to show and print, in order."""
    drafted = draft(data) if drafted is None else drafted
    rows = DraftParagraph.objects.filter(orgunit=data.orgunit, year=data.year, kind=data.kind)
    kept: dict[str, list[DraftParagraph]] = {}
    for row in rows.order_by("position", "id"):
        kept.setdefault(row.section, []).append(row)
    live_by_key = {(d.section, d.key): d for d in drafted}
    result: dict[str, Section] = {}
    for paragraph in drafted:
        result.setdefault(paragraph.section, Section(paragraph.section))
    for section in list(result) + [s for s in kept if s not in result]:
        shown = result.setdefault(section, Section(section))
        if section in kept:
            keys = {row.key for row in kept[section]}
            shown.paragraphs = [_kept(row, live_by_key.get((section, row.key)))
                                for row in kept[section]]  # fmt: skip
            shown.paragraphs += [_live(d, new=True) for d in drafted
                                 if d.section == section and d.key not in keys]  # fmt: skip
        else:
            shown.paragraphs = [_live(d) for d in drafted if d.section == section]
    return result

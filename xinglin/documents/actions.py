"""Writes of the documents app: the officer's narratives and typical cases, and generating a
document (which reads figures from the engine and writes nothing)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import transaction

from xinglin.documents.content import DOCUMENT_NUMBER, NARRATIVE_SECTIONS, build_report
from xinglin.documents.drafting.draft import Drafted, draft
from xinglin.documents.formats import FORMATS
from xinglin.documents.gather import gather
from xinglin.documents.jobs import render_cached
from xinglin.documents.models import DraftParagraph, Narrative, ReportKind, TypicalCase
from xinglin.network.models import OrgUnit

MAX_TYPICAL_CASES = 2  # seeds/000 §五(三)2: "评估报告、1-2件典型案例"


class DocumentError(ValueError):
    """A request the documents app cannot satisfy (unknown kind, format, too many cases)."""


def render_document(kind: str, orgunit: OrgUnit, year: int, fmt: str) -> bytes:
    """The `kind` report of `orgunit` for `year` as `fmt` (docx, pdf or xlsx) bytes."""
    if kind not in ReportKind.values:
        raise DocumentError(f"unknown report {kind!r}; use one of {', '.join(ReportKind.values)}")
    if fmt not in FORMATS:
        raise DocumentError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")

    def render() -> bytes:
        data = gather(kind, orgunit, year)
        renderer, _content_type = FORMATS[fmt]
        return renderer(build_report(data), data)

    # the same file as the web's for unchanged data (jobs.py: cached per data generation)
    return render_cached(kind, orgunit, year, fmt, render)


def editable_sections(kind: str) -> list[str]:
    return [DOCUMENT_NUMBER, *(key for key, _heading in NARRATIVE_SECTIONS[kind])]


@transaction.atomic
def save_narratives(
    orgunit: OrgUnit, year: int, kind: str, texts: dict[str, str], *, user: User | None = None
) -> int:
    """Store the given sections' texts (unknown sections are ignored); returns how many
    changed. Empty text keeps the row, so an emptied paragraph stays empty when regenerated."""
    changed = 0
    allowed = editable_sections(kind)
    for section, text in texts.items():
        if section not in allowed:
            continue
        row, created = Narrative.objects.get_or_create(
            orgunit=orgunit, year=year, kind=kind, section=section,
            defaults={"text": text.strip(), "updated_by": user},
        )  # fmt: skip
        if created:
            changed += 1
        elif row.text != text.strip():
            row.text, row.updated_by = text.strip(), user
            row.save(update_fields=["text", "updated_by", "updated_at"])
            changed += 1
    return changed


def save_typical_case(
    orgunit: OrgUnit, year: int, title: str, body: str, *, user: User | None = None,
    case: TypicalCase | None = None,
) -> TypicalCase:  # fmt: skip
    """Create (or, given `case`, update) a typical case; at most MAX_TYPICAL_CASES a year."""
    if case is None:
        if TypicalCase.objects.filter(orgunit=orgunit, year=year).count() >= MAX_TYPICAL_CASES:
            raise DocumentError(f"at most {MAX_TYPICAL_CASES} typical cases a year")
        position = TypicalCase.objects.filter(orgunit=orgunit, year=year).count() + 1
        case = TypicalCase(orgunit=orgunit, year=year, position=position)
    case.title, case.body, case.updated_by = title.strip(), body.strip(), user
    case.save()
    return case


def delete_typical_case(case: TypicalCase) -> None:
    case.delete()


@dataclass
class DraftResult:
    created: int = 0
    updated: int = 0
    kept: int = 0  # edited paragraphs left as the officer wrote them
    removed: int = 0


def _write_drafted(row: DraftParagraph, paragraph: Drafted, position: int, user) -> None:
    row.text = row.drafted_text = paragraph.text
    row.sources, row.fingerprint = paragraph.sentences_json(), paragraph.fingerprint
    row.position, row.edited, row.updated_by = position, False, user
    row.save()


@transaction.atomic
def keep_draft(
    orgunit: OrgUnit, year: int, kind: str, *, user: User | None = None,
    keys: list[str] | None = None, overwrite_edited: bool = False,
) -> DraftResult:  # fmt: skip
    """Draft the report from today's data and keep it in the narrative store: every paragraph,
    or only those whose `keys` are given (regenerating one paragraph leaves the others alone).
    A paragraph the officer edited is left as written unless `overwrite_edited` — the officer
    asked, for these keys — and a kept paragraph the new draft no longer has is removed only
    when nobody edited it."""
    if kind not in ReportKind.values:
        raise DocumentError(f"unknown report {kind!r}")
    drafted = draft(gather(kind, orgunit, year))
    rows = {(r.section, r.key): r for r in DraftParagraph.objects.select_for_update().filter(
        orgunit=orgunit, year=year, kind=kind)}  # fmt: skip
    result = DraftResult()
    for position, paragraph in enumerate(drafted):
        if keys is not None and paragraph.key not in keys:
            continue
        row = rows.pop((paragraph.section, paragraph.key), None)
        if row is None:
            row = DraftParagraph(orgunit=orgunit, year=year, kind=kind,
                                 section=paragraph.section, key=paragraph.key)  # fmt: skip
            result.created += 1
        elif row.edited and not overwrite_edited:
            result.kept += 1
            continue
        else:
            result.updated += 1
        _write_drafted(row, paragraph, position, user)
    if keys is None:
        for row in rows.values():
            if row.edited:
                result.kept += 1
            else:
                row.delete()
                result.removed += 1
    return result


@dataclass
class EditResult:
    changed: int = 0
    conflicts: list[str] = field(default_factory=list)  # keys someone else changed meanwhile


@transaction.atomic
def edit_paragraphs(
    orgunit: OrgUnit, year: int, kind: str, texts: dict[str, str], *, user: User | None = None,
    originals: dict[str, str] | None = None,
) -> EditResult:  # fmt: skip
    """The officer's edits of kept paragraphs (`texts` by paragraph key; unknown keys are
    ignored). With `originals` (the texts the officer's page showed), a paragraph changed by
    someone else since is not overwritten: its key is returned as a conflict. An emptied
    paragraph stays empty and prints nothing."""
    result = EditResult()
    rows = DraftParagraph.objects.select_for_update().filter(
        orgunit=orgunit, year=year, kind=kind, key__in=list(texts)
    )
    for row in rows:
        text = _clean(texts[row.key])
        if text == row.text:
            continue
        if (
            originals is not None
            and row.key in originals
            and _clean(originals[row.key]) != row.text
        ):
            result.conflicts.append(row.key)
            continue
        row.text, row.edited, row.updated_by = text, text != row.drafted_text, user
        row.save(update_fields=["text", "edited", "updated_by", "updated_at"])
        result.changed += 1
    return result


def _clean(text: str) -> str:
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())

"""Checking evidence files: type by content signature (not by the name the browser sent),
size limit, and a safe display name."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from django.utils.translation import gettext as _

MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
MAX_NAME_CHARS = 120
# extension -> (content type, also accepted extensions)
TYPES = {
    "pdf": ("application/pdf", {"pdf"}),
    "png": ("image/png", {"png"}),
    "jpg": ("image/jpeg", {"jpg", "jpeg"}),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", {"docx"}),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", {"xlsx"}),
}
# Office documents are zip files; the part that tells Word from Excel.
OFFICE_PARTS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}
UNSAFE = re.compile(r"[^\w\-.()（）\[\] ]+")


class EvidenceFileError(ValueError):
    pass


@dataclass(frozen=True)
class CheckedFile:
    kind: str  # pdf | png | jpg | docx | xlsx
    name: str  # sanitised display name, ending in the kind's extension
    content_type: str


def detect_kind(head: bytes, content: bytes) -> str | None:
    """The file's type from its first bytes (and, for zip files, its parts)."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(content)).namelist())
        except zipfile.BadZipFile:
            return None
        for kind, part in OFFICE_PARTS.items():
            if part in names:
                return kind
    return None


def sanitise_name(name: str) -> str:
    """A display name without directories, control characters or path tricks."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = UNSAFE.sub("_", name).strip(" .")
    name = re.sub(r"\.{2,}", ".", name)
    return name[:MAX_NAME_CHARS] or "evidence"


def check_file(name: str, content: bytes) -> CheckedFile:
    if len(content) == 0:
        raise EvidenceFileError(_("The file is empty."))
    if len(content) > MAX_EVIDENCE_BYTES:
        raise EvidenceFileError(
            _("The file is larger than %(mb)d MB.") % {"mb": MAX_EVIDENCE_BYTES // (1024 * 1024)}
        )
    kind = detect_kind(content[:16], content)
    if kind is None:
        raise EvidenceFileError(_("Only PDF, PNG, JPEG, Word (.docx) and Excel (.xlsx) files."))
    content_type, extensions = TYPES[kind]
    clean = sanitise_name(name)
    stem, dot, extension = clean.rpartition(".")
    if not dot or extension.lower() not in extensions:
        if dot and extension.lower() in {e for _, exts in TYPES.values() for e in exts}:
            raise EvidenceFileError(
                _("The file's content is %(kind)s but its name ends in .%(ext)s.")
                % {"kind": kind.upper(), "ext": extension}
            )
        stem = clean
    return CheckedFile(kind, f"{stem or 'evidence'}.{kind}", content_type)

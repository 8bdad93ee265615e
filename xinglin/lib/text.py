"""Text files as counties send them: UTF-8 (with or without BOM) or GBK."""

from __future__ import annotations

# GB18030 is a superset of GBK (and of GB2312), so it reads either.
ENCODINGS = ("utf-8-sig", "gb18030")


def decode_text(data: bytes) -> str | None:
    """The text of `data` in the first encoding that reads it; None when none does (the
    caller says which file, in its own error)."""
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None

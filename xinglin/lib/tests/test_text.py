from __future__ import annotations

from xinglin.lib.text import decode_text


def test_it_reads_utf8_with_or_without_bom_and_gbk():
    assert decode_text("花马池镇".encode()) == "花马池镇"
    assert decode_text("\ufeff花马池镇".encode()) == "花马池镇"
    assert decode_text("花马池镇".encode("gbk")) == "花马池镇"


def test_it_gives_none_for_what_is_neither():
    assert decode_text(b"\x81\x20\xff\xfe\x80") is None

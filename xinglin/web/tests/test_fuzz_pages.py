"""Issue 20.6: malformed input to pages is a clear 4xx, never a 500.

Every upload page, given a workbook with a DOCTYPE (and nested entities), a truncated zip,
random bytes with an .xlsx name and a file of the wrong type; the care pages given years such
as 0, -1 and 99999 (also in xinglin/care/tests/test_privacy.py); every page of the project
given absurd values for its common GET parameters."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver
from openpyxl import Workbook

from xinglin.web.tests import world


def _doctype_xlsx() -> bytes:
    book = Workbook()
    book.active.append(["code", "name", "type", "parent"])
    book.active.append(["640323100901", "x", "village_clinic", "640323100"])
    plain = io.BytesIO()
    book.save(plain)
    source, out = zipfile.ZipFile(io.BytesIO(plain.getvalue())), io.BytesIO()
    dtd = ('<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
           '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>')  # fmt: skip
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name.endswith(".xml"):
                text = data.decode()
                end = text.index("?>") + 2 if text.startswith("<?xml") else 0
                data = (text[:end] + dtd + text[end:]).replace("<v>", "<v>&c;", 1).encode()
            target.writestr(name, data)
    return out.getvalue()


def _truncated_xlsx() -> bytes:
    book, out = Workbook(), io.BytesIO()
    book.save(out)
    return out.getvalue()[: len(out.getvalue()) // 2]


MALFORMED = {
    "doctype.xlsx": (_doctype_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "truncated.xlsx": (_truncated_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "random.xlsx": (lambda: bytes(range(256)) * 8, "application/octet-stream"),
    "picture.csv": (lambda: b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png"),
}  # fmt: skip


def _upload_pages(scopes) -> list[str]:
    plan = scopes["HMC"].ids["plan"]
    return ["/network/import/", "/care/assessments/import/", "/care/visits/import/",
            "/collection/import/", "/surveys/resident_satisfaction/import/",
            f"/plans/{plan}/import/"]  # fmt: skip


@pytest.fixture
def scopes(county, alice, bob, dave, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return world.build({"HMC": bob, "DSK": dave})


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_uploads_are_4xx_or_a_form_error(scopes, alice, client_for, kind):
    make, content_type = MALFORMED[kind]
    client = client_for(alice)
    failures = []
    for url in _upload_pages(scopes):
        upload = SimpleUploadedFile(kind, make(), content_type=content_type)
        response = client.post(url, {"file": upload, "files": upload})
        if response.status_code >= 500:
            failures.append(f"{url}: {response.status_code}")
    assert failures == []


BAD_VALUES = ["0", "-1", "99999", "x", "' OR 1=1 --", "%00", "9" * 40]
PARAMETERS = ["year", "period", "page", "orgunit", "unit", "institution", "pack", "q", "form",
              "kind", "status", "department", "phase", "indicator", "under", "by"]  # fmt: skip


def _plain_pages() -> list[str]:
    pages = []

    def walk(resolver, prefix=""):
        for item in resolver.url_patterns:
            if isinstance(item, URLResolver):
                walk(item, prefix + str(item.pattern))
            elif isinstance(item, URLPattern) and "<" not in str(item.pattern):
                route = prefix + str(item.pattern)
                if not route.startswith(("api/v1", "logout", "i18n")):
                    pages.append("/" + route)

    walk(get_resolver())
    return pages


def test_no_page_answers_500_to_absurd_parameters(scopes, alice, client_for):
    client = client_for(alice)
    client.raise_request_exception = False
    failures = []
    for page in _plain_pages():
        for value in BAD_VALUES:
            response = client.get(page, dict.fromkeys(PARAMETERS, value))
            if response.status_code >= 500:
                failures.append(f"{page}?…={value}: {response.status_code}")
    assert failures == []

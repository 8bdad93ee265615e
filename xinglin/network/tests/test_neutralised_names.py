"""Issue 20.5 with 18.3: the institutions export neutralises a name that a spreadsheet would
run (`=HYPERLINK(…)` → `'=HYPERLINK(…)`), and importing that export gives the name back
exactly and changes nothing (web and command line)."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from xinglin.network.actions import update_institution
from xinglin.network.models import OrgUnit, OrgUnitChange

CLINIC = "640323100101"
EVIL = '=HYPERLINK("x")'


def _state():
    return list(
        OrgUnit.objects.order_by("code").values_list(
            "code", "name", "institution_type", "parent__code", "ownership", "roles"
        )
    )


def test_an_exported_neutralised_name_imports_back_unchanged(county, bob, client_for, tmp_path):
    update_institution(OrgUnit.objects.get(code=CLINIC), name=EVIL)
    client = client_for(bob)
    exported = client.get("/network/640323100/institutions.csv").content
    text = exported.decode("utf-8-sig")
    assert f'{CLINIC},"\'=HYPERLINK(""x"")",' in text  # neutralised in the file
    before, changes = _state(), OrgUnitChange.objects.count()

    page = client.post(
        "/network/import/", {"file": SimpleUploadedFile("institutions.csv", exported)}
    )
    assert page.status_code == 200
    result = page.context["result"]
    assert (result.created, result.updated, result.errors) == (0, 0, [])
    assert _state() == before
    assert OrgUnit.objects.get(code=CLINIC).name == EVIL
    assert OrgUnitChange.objects.count() == changes  # nothing recorded: nothing changed

    path = tmp_path / "institutions.csv"
    path.write_bytes(exported)
    out = io.StringIO()
    call_command("import_institutions", str(path), stdout=out)
    assert out.getvalue().startswith("0 institutions added, 0 changed")
    assert _state() == before

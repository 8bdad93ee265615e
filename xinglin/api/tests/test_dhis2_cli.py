"""Issue 23.1 on the command line: `xinglin import --id-scheme uid` reads DHIS2 UIDs through
the code mapping, and the command's JSON export speaks the API's dialect (values are strings,
as DHIS2 writes them)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from xinglin.api.actions import load_mappings
from xinglin.collection.models import DataValue

HMC = "640323100001"


def _export_json() -> dict:
    out = io.StringIO()
    call_command("export", "values", "--format", "json", stdout=out)
    return json.loads(out.getvalue())


def test_the_cli_export_and_the_api_agree(client, alice, stored, bearer):
    cli = {(v["orgUnit"], v["period"], v["dataElement"]): v["value"]
           for v in _export_json()["dataValues"]}  # fmt: skip
    api = client.get("/api/dataValueSets?idScheme=code", **bearer(alice)).json()["dataValues"]
    assert cli == {(v["orgUnit"], v["period"], v["dataElement"]): v["value"] for v in api}
    assert cli[(HMC, "2024", "performance_score_tcm_share")] == "0.175"
    assert cli[(HMC, "2024", "has_tcm_hall")] == "true"
    assert all(isinstance(value, str) for value in cli.values())


def test_import_with_uids_uses_the_mapping(tmp_path, stored, capsys):
    load_mappings([{"kind": "element", "code": "total_visits", "external": "fbfJHSPpUQD"},
                   {"kind": "orgunit", "code": HMC, "external": "DiszpKrYNg8"}])  # fmt: skip
    path = tmp_path / "dhis2.json"
    path.write_text(json.dumps({"dataValues": [
        {"dataElement": "fbfJHSPpUQD", "orgUnit": "DiszpKrYNg8", "period": "202403",
         "value": "1111"}]}))  # fmt: skip
    call_command("import", str(path), "--id-scheme", "uid")
    assert "1 values were added" in capsys.readouterr().out
    stored_value = DataValue.objects.get(orgunit__code=HMC, period="202403")
    assert (stored_value.element.code, stored_value.value) == ("total_visits", 1111)
    # without the mapping the UIDs are unknown codes: refused by name, nothing written
    path.write_text(path.read_text().replace("202403", "202404"))
    with pytest.raises(SystemExit) as refused:
        call_command("import", str(path), "--id-scheme", "code")
    assert refused.value.code == 2
    assert "fbfJHSPpUQD" in capsys.readouterr().err
    assert not DataValue.objects.filter(period="202404").exists()

"""Issue 19 §6: after `xinglin migrate` a fresh database knows the canonical data elements, so
`import-divisions`, `import-institutions` and `import` work with no `packs load`."""

from __future__ import annotations

import os
import subprocess
import sys

import yaml
from django.core.management import call_command

from xinglin.standards.catalogue import CORE_FILE
from xinglin.standards.models import DataElement, TechniqueItem


def _xinglin(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "xinglin.cli", *args], env=env, capture_output=True, text=True
    )


def test_a_fresh_migrated_database_takes_divisions_institutions_and_values(tmp_path):
    env = {
        **os.environ,
        "XINGLIN_VAR_DIR": str(tmp_path),
        "XINGLIN_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "xinglin.settings",
    }
    migrated = _xinglin(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "Canonical data elements" in migrated.stdout
    assert _xinglin(env, "import-divisions", "640323").returncode == 0
    institutions = tmp_path / "institutions.csv"
    institutions.write_text(
        "code,name,type,parent\n640323100001,花马池镇卫生院,township_health_center,640323100\n",
        encoding="utf-8",
    )
    added = _xinglin(env, "import-institutions", str(institutions))
    assert added.returncode == 0, added.stderr
    values = tmp_path / "values.csv"
    values.write_text(
        "orgunit,period,element,value\n640323100,2024,residents,58123\n"
        "640323100001,202401,total_visits,1200\n",
        encoding="utf-8",
    )
    imported = _xinglin(env, "import", str(values))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "2 values were added, 0 changed, 0 unchanged" in imported.stdout


def test_migrate_restores_the_catalogue_as_core_yaml_declares_it(db):
    declared = yaml.safe_load(CORE_FILE.read_text(encoding="utf-8"))
    DataElement.objects.filter(code="residents").delete()
    call_command("migrate", verbosity=0)
    codes = set(DataElement.objects.values_list("code", flat=True))
    assert codes == {e["code"] for e in declared["data_elements"]}
    items = sum(len(t.get("items", [])) for t in declared["techniques"])
    assert TechniqueItem.objects.count() == items

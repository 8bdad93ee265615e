"""Benchmark: the API's interchange paths on 50,000 values.

Builds a county with 300 village clinics in a temporary SQLite database, then times, through
the Django test client with a bureau administrator's personal token:
POST /api/v1/dataValueSets (all new), GET /api/v1/dataValueSets, GET /api/v1/adx (schema-
validated), POST /api/v1/adx (all unchanged), GET /api/v1/values (one page of 1000).
Run: python bench/bench_api.py [--values N] [--clinics N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path


def setup(database: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ["XINGLIN_DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinglin.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build(clinics: int) -> tuple[list[str], str]:
    from xinglin.api.actions import create_token
    from xinglin.network.actions import create_institution, create_user, import_divisions
    from xinglin.network.models import OrgUnit, Role
    from xinglin.standards.catalogue import sync_catalogue

    sync_catalogue()
    import_divisions("640323")
    county = OrgUnit.objects.get(code="640323")
    townships = list(OrgUnit.objects.filter(parent=county))
    codes = []
    for number in range(clinics):
        township = townships[number % len(townships)]
        code = f"{township.code}{200 + number // len(townships):03d}"
        create_institution(
            code=code, name=f"卫生室{number}", institution_type="village_clinic", parent=township
        )
        codes.append(code)
    user = create_user("bench", "Bench-Password-1", role=Role.BUREAU_ADMIN, orgunit=county)
    return codes, create_token(user, "bench")[1]


def document(codes: list[str], values: int) -> dict:
    entries, year, month = [], 2000, 1
    while len(entries) < values:
        for number, code in enumerate(codes):
            total = 100 + (number * 7 + month) % 400
            period = f"{year}{month:02d}"
            entries.append({"dataElement": "total_visits", "period": period, "orgUnit": code,
                            "value": str(total)})  # fmt: skip
            entries.append({"dataElement": "tcm_visits", "period": period, "orgUnit": code,
                            "value": str(total // 3)})  # fmt: skip
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return {"dataValues": entries[:values]}


def timed(label: str, call) -> object:
    started = time.perf_counter()
    response = call()
    seconds = time.perf_counter() - started
    print(
        f"{label:<40} {seconds:8.2f} s  HTTP {response.status_code}  {len(response.content):>10,} bytes"
    )
    return response


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--values", type=int, default=50_000)
    parser.add_argument("--clinics", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        setup(Path(directory) / "bench.sqlite3")
        from django.test import Client

        codes, token = build(args.clinics)
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="localhost")
        body = json.dumps(document(codes, args.values))
        print(f"{args.values:,} values, {args.clinics} clinics")
        response = timed("POST dataValueSets (new)", lambda: client.post(
            "/api/v1/dataValueSets?confirm=true", body, content_type="application/json"))  # fmt: skip
        print("   ", response.json() if response.status_code != 200 else {
            k: v for k, v in response.json().items() if k != "warnings"})  # fmt: skip
        timed("GET dataValueSets", lambda: client.get("/api/v1/dataValueSets"))
        adx = timed("GET adx (validated)", lambda: client.get("/api/v1/adx"))
        timed("POST adx (unchanged)", lambda: client.post(
            "/api/v1/adx", adx.content, content_type="application/adx+xml"))  # fmt: skip
        timed("GET values (1000)", lambda: client.get("/api/v1/values?limit=1000&offset=20000"))


if __name__ == "__main__":
    main()

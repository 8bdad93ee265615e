"""W7: month-end on PostgreSQL, with SQLite as the peer, against `xinglin serve` (issue 25).

Province size: the generated province of bench/_province.py (100 counties in 10 cities,
31,611 org units, 30,000 institutions), 350 users with their scopes, and the values the pages
and forms read: five years (2021–2025) of every catalogue element (≈ 1.2 M values a year)
and November 2026's monthly forms, the month being closed (filled and submitted in the 30
supervisors' townships; empty for the clerks' institutions). The 34 filler elements of other
forms that bring W1's province to 65 M values are not loaded: no page or form here reads them,
and loading them takes ≈ 7 minutes per database (bench/bench_w1_peers.py measures that).

- 300 clerks (institution_clerk, one institution each, spread over the province) each save
  one field of their November form every ~10 s (uniform 5–15 s) as the browser does: the
  entry page is opened once, each change posts the whole form (htmx: the field's value, every
  field's `version_`/`was_` inputs, the CSRF header) to the field's save URL, and the field's
  new version is taken from the answer. A warning (year-on-year jump) is confirmed as a person
  would (a second POST with `confirm`).
- 30 township supervisors each open a submitted form of their township (GET) and approve it
  (POST with the version the page showed and the confirmation box), every 3–7 s.
- 20 viewers (two per city) alternate their county's and their city's scorecard, every
  2.5–7.5 s. The city's scorecard reads the warehouse export (run once after loading,
  `xinglin warehouse export`, as the nightly job does); the county's the database.

Everything is driven over HTTP on 127.0.0.1 with real logins (CSRF, the production password
hasher); the server is `xinglin serve` with its defaults (gunicorn gthread, XINGLIN_WORKERS x
XINGLIN_THREADS). The load generator is one process of threads, bounded: at most
--duration seconds (≤ 300) and a fixed number of actors; it stops by itself. After each run
every clerk's last saved value is read back from the database (0 lost updates) and every
approval the generator saw succeed must be approved there.

Data is generated once (numpy, fixed seed) under var/bench/w7/data and loaded once per
database (COPY on PostgreSQL, database xl_bench_w7; executemany on SQLite,
var/bench/w7/sqlite); later runs reset the clerks' November values and the submissions and
only measure.

    .venv/bin/python bench/bench_w7_monthend.py [--duration 90] [--only postgres|sqlite]
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
BASE = ROOT / "var" / "bench" / "w7"
DATA = BASE / "data"
PG_URL = os.environ.get("XINGLIN_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/")
PG_DATABASE = "xl_bench_w7"
DATABASES = {
    "postgres": PG_URL + PG_DATABASE,
    "sqlite": f"sqlite:///{BASE / 'sqlite' / 'xinglin.sqlite3'}",
}
LABELS = {"postgres": "PostgreSQL", "sqlite": "SQLite"}
HOST, PORT = "127.0.0.1", 8767
PASSWORD = "Xinglin-2026"
MONTH = "202611"  # the month being closed (the bench's dates are fixed, not today's)
YEARS = range(2021, 2026)
CLERKS, SUPERVISORS, VIEWERS = 300, 30, 20
MAX_SECONDS = 300  # hard bound of one run
TIMEOUT = 30.0
TABLES = ("network_orgunit", "network_orgunithistory", "evaluation_derivedvalue",
          "collection_deliveredtechnique", "collection_datavalue")  # fmt: skip
TARGETS = {"save": 0.250, "page": 0.500}


# ---- the data ----------------------------------------------------------------------------


def people(orgunits) -> dict:
    """Who works where, from the org-unit table (a pyarrow table or rows of dicts): clerks
    in village clinics and township health centres spread over the province (every county),
    supervisors in 30 townships (one in each of 30 counties, none of them a clerk's), two
    viewers per city. Deterministic."""
    rows = orgunits.to_pylist() if hasattr(orgunits, "to_pylist") else list(orgunits)
    by_parent: dict = {}
    for row in rows:
        by_parent.setdefault(row["parent_id"], []).append(row)
    cities = sorted((r for r in rows if r["division_level"] == "city"), key=lambda r: r["code"])
    counties = sorted((r for r in rows if r["division_level"] == "county"),
                      key=lambda r: r["code"])  # fmt: skip
    supervised, clerks = [], []
    for n, county in enumerate(counties):
        towns = sorted((r for r in by_parent[county["id"]] if r["division_level"] == "township"),
                       key=lambda r: r["code"])  # fmt: skip
        if n % 3 == 0 and len(supervised) < SUPERVISORS:
            town = towns[0]
            units = sorted(r["code"] for r in by_parent[town["id"]]
                            if r["kind"] == "institution" and not r["closed_on"]
                            and not r["opened_on"])  # fmt: skip
            supervised.append({"township": town["code"], "units": units})
        for town in towns[1:4]:  # three clerks per county: a centre and two clinics
            here = sorted((r for r in by_parent[town["id"]] if r["kind"] == "institution"
                           and not r["closed_on"] and not r["opened_on"]),
                          key=lambda r: r["code"])  # fmt: skip
            clerks.append(
                here[0]["code"] if town is towns[1] else here[1 + len(clerks) % 5]["code"]
            )
    clerks = clerks[:CLERKS]
    viewers = []
    for n in range(VIEWERS):
        city = cities[n % len(cities)]
        county = sorted(r["code"] for r in by_parent[city["id"]])[n // len(cities)]
        viewers.append({"city": city["code"], "county": county})
    return {"clerks": clerks, "supervised": supervised, "viewers": viewers}


def generate() -> dict:
    """The province's tables as Parquet under DATA (the layout bench_w1_peers loads)."""
    manifest_path = DATA / "w7.json"
    if manifest_path.exists():
        return json.loads(manifest_path.read_text())
    import _province
    import numpy as np
    import pyarrow.compute as pc

    started = time.perf_counter()
    rng = np.random.default_rng(_province.SEED + 7)
    elements, items = _province.catalogue()
    core = [e for e in elements if not e["code"].startswith("bench_form_")]
    units = _province.build_units(rng)
    _province._write(DATA / "network_orgunit" / "all.parquet", units.table)
    _province._write(DATA / "network_orgunithistory" / "all.parquet", units.history)
    total, techniques = 0, []
    for year in YEARS:
        table = _province.values_for_year(rng, units, core, year)  # ids: core.yaml order
        _province._write(DATA / "collection_datavalue" / f"{year}.parquet", table)
        total += table.num_rows
        techniques += _province.techniques_for_year(rng, units, items, year)
    # November 2026: filled in the supervised townships (submitted), and in every institution
    # but the clerks' (whose forms are being filled during the run)
    crew = people(units.table)
    codes = dict(zip(units.table["code"].to_pylist(), units.table["id"].to_pylist(), strict=True))
    empty = pa_array([codes[c] for c in crew["clerks"]])
    month = _province.values_for_year(rng, units, core, 2026)
    month = month.filter(pc.and_(pc.equal(month["period"], MONTH),
                                 pc.invert(pc.is_in(month["orgunit_id"], value_set=empty))))  # fmt: skip
    _province._write(DATA / "collection_datavalue" / "2026.parquet", month)
    total += month.num_rows
    import pyarrow as pa

    columns = list(zip(*techniques, strict=True))
    _province._write(DATA / "collection_deliveredtechnique" / "all.parquet", pa.table({
        "id": pa.array(range(1, len(techniques) + 1), pa.int64()),
        "orgunit_id": pa.array(columns[0], pa.int64()), "period": list(columns[1]),
        "item_id": pa.array(columns[2], pa.int64()),
        "source": ["reported"] * len(techniques)}))  # fmt: skip
    _province._write(DATA / "evaluation_derivedvalue" / "all.parquet",
                     _province._derived(rng, units, core))  # fmt: skip
    manifest = {"values": total, "november": month.num_rows, "orgunits": units.table.num_rows,
                "institutions": int(sum(len(v) for v in units.institutions.values())),
                "elements": len(core), "seconds": round(time.perf_counter() - started, 1)}  # fmt: skip
    manifest_path.write_text(json.dumps(manifest, indent=1))
    return manifest


def pa_array(values):
    import pyarrow as pa

    return pa.array(values, pa.int64())


# ---- the database (a child process per database: Django reads its URL at start) ------------


def child_prepare(name: str) -> None:
    """Migrate, load (once), reset the month's state, create the users, export the warehouse;
    writes the plan of the run (who opens what) to BASE/<name>-plan.json."""
    import bench_w1_peers as w1

    w1.DATA, w1.WORK, w1.TABLES = DATA, BASE / "work", TABLES
    w1.WORK.mkdir(parents=True, exist_ok=True)
    w1.setup_django()
    from django.core.management import call_command

    from xinglin.standards.catalogue import sync_catalogue
    from xinglin.standards.models import DataElement

    sync_catalogue()
    import _province

    core = [e["code"] for e in _province.catalogue()[0] if not e["code"].startswith("bench_")]
    have = list(DataElement.objects.order_by("id").values_list("code", flat=True)[: len(core)])
    if have != core:
        raise SystemExit(f"{name}: the catalogue's ids are not the generated values' (core.yaml"
                         f" changed since the data was generated? delete {DATA})")  # fmt: skip
    from xinglin.network.models import OrgUnit

    if OrgUnit.objects.filter(kind="division").exists():
        _reset_month()
    loader = w1.Loader(name)
    wanted = {t: w1.parquet_rows(t) for t in TABLES}
    marker = w1.WORK / f"{name}-loaded.json"
    known = json.loads(marker.read_text()) if marker.exists() else {}
    if known.get("rows") == wanted and loader.counts() == wanted:
        print(f"  {LABELS[name]}: loaded already ({sum(wanted.values()):,} rows; the load took"
              f" {known['seconds']:.0f} s)", flush=True)  # fmt: skip
    else:
        marker.unlink(missing_ok=True)
        print(f"  {LABELS[name]}: loading {sum(wanted.values()):,} rows", flush=True)
        started = time.perf_counter()
        loader.load()
        seconds = time.perf_counter() - started
        if loader.counts() != wanted:
            raise SystemExit(f"{name}: row counts after the load differ from the Parquet's")
        started = time.perf_counter()
        call_command("warehouse", "export", verbosity=0)
        export = time.perf_counter() - started
        marker.write_text(json.dumps({"rows": wanted, "seconds": seconds, "export": export}))
        print(f"  {LABELS[name]}: loaded in {seconds:.0f} s, warehouse exported in"
              f" {export:.0f} s", flush=True)  # fmt: skip
    plan = _users_and_forms()
    (BASE / f"{name}-plan.json").write_text(json.dumps(plan))


def _reset_month() -> None:
    """Undo a previous run: the clerks' November values (and their audit) go, the supervised
    forms are submitted again."""
    from django.db import transaction

    from xinglin.collection.models import AuditEntry, DataValue, Submission, SubmissionStatus
    from xinglin.network.models import OrgUnit

    crew = people(OrgUnit.objects.values("id", "code", "kind", "division_level", "parent_id",
                                         "closed_on", "opened_on"))  # fmt: skip
    with transaction.atomic():
        DataValue.objects.filter(orgunit__code__in=crew["clerks"], period=MONTH).delete()
        AuditEntry.objects.filter(orgunit__code__in=crew["clerks"], period=MONTH).delete()
        Submission.objects.filter(orgunit__code__in=crew["clerks"], period=MONTH).delete()
        supervised = [c for s in crew["supervised"] for c in s["units"]]
        Submission.objects.filter(orgunit__code__in=supervised, period=MONTH).update(
            status=SubmissionStatus.SUBMITTED, decided_at=None, decided_by=None, comment=""
        )


def _users_and_forms() -> dict:
    """The 350 users (created in bulk, one password hash: hashing 350 times would be 80 s of
    CPU and proves nothing), their memberships, the supervised forms submitted, and what
    each clerk will type (the form's monthly number fields, last November's value)."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from django.db import transaction
    from django.utils import timezone

    from xinglin.collection.forms import form_for
    from xinglin.collection.models import DataValue, Submission, SubmissionStatus
    from xinglin.network.models import Membership, OrgUnit, Role

    crew = people(OrgUnit.objects.values("id", "code", "kind", "division_level", "parent_id",
                                         "closed_on", "opened_on"))  # fmt: skip
    units = {u.code: u for u in OrgUnit.objects.filter(code__in=[
        *crew["clerks"], *(s["township"] for s in crew["supervised"]),
        *(c for s in crew["supervised"] for c in s["units"]),
        *(v["city"] for v in crew["viewers"]), *(v["county"] for v in crew["viewers"])])}  # fmt: skip
    who = [(f"w7clerk{n:03d}", Role.INSTITUTION_CLERK, c) for n, c in enumerate(crew["clerks"])]
    who += [(f"w7super{n:02d}", Role.TOWNSHIP_SUPERVISOR, s["township"])
            for n, s in enumerate(crew["supervised"])]  # fmt: skip
    who += [(f"w7viewer{n:02d}", Role.VIEWER, v["city"]) for n, v in enumerate(crew["viewers"])]
    with transaction.atomic():
        existing = set(User.objects.filter(username__startswith="w7").values_list("username",
                                                                                flat=True))  # fmt: skip
        hashed = make_password(PASSWORD)
        User.objects.bulk_create([User(username=u, password=hashed) for u, _r, _c in who
                                  if u not in existing])  # fmt: skip
        ids = dict(User.objects.filter(username__startswith="w7").values_list("username", "id"))
        Membership.objects.filter(user_id__in=ids.values()).delete()
        Membership.objects.bulk_create([Membership(user_id=ids[u], role=r, orgunit=units[c])
                                        for u, r, c in who])  # fmt: skip
        now = timezone.now()
        for s in crew["supervised"]:
            for code in s["units"]:
                form = form_for(units[code], MONTH)
                Submission.objects.update_or_create(orgunit=units[code], period=MONTH, defaults={
                    "form": form.code if form else "", "status": SubmissionStatus.SUBMITTED,
                    "submitted_at": now, "submitted_by": None, "decided_at": None,
                    "decided_by": None, "comment": ""})  # fmt: skip
    clerks = []
    last_year = f"{int(MONTH[:4]) - 1}{MONTH[4:]}"
    for username, _role, code in who[: len(crew["clerks"])]:
        form = form_for(units[code], MONTH)
        fields = [e for e in form.elements() if e.value_type in ("integer", "number")]
        before = dict(DataValue.objects.filter(orgunit=units[code], period=last_year,
                      element__in=fields).values_list("element__code", "value"))  # fmt: skip
        clerks.append({"user": username, "unit": code,
                       "fields": {e.code: before.get(e.code) or 10.0 for e in fields}})  # fmt: skip
    supervisors = [{"user": f"w7super{n:02d}", "units": s["units"]}
                   for n, s in enumerate(crew["supervised"])]  # fmt: skip
    viewers = [{"user": f"w7viewer{n:02d}", **v} for n, v in enumerate(crew["viewers"])]
    return {"clerks": clerks, "supervisors": supervisors, "viewers": viewers}


def child_verify(name: str) -> None:
    """Every clerk's last saved value and every approval seen, against the database."""
    import bench_w1_peers as w1

    w1.setup_django()
    from xinglin.collection.models import DataValue, Submission, SubmissionStatus

    seen = json.loads((BASE / f"{name}-seen.json").read_text())
    stored = {(v[0], v[1]): v[2] for v in DataValue.objects.filter(
        orgunit__code__in={k.split("|")[0] for k in seen["saved"]}, period=MONTH,
    ).values_list("orgunit__code", "element__code", "value")}  # fmt: skip
    lost = [f"{k}: saved {v}, stored {stored.get(tuple(k.split('|')))}"
            for k, v in seen["saved"].items()
            if stored.get(tuple(k.split("|"))) not in (v, *seen["unanswered"].get(k, []))]  # fmt: skip
    approved = set(Submission.objects.filter(period=MONTH, status=SubmissionStatus.APPROVED,
                   orgunit__code__in=seen["approved"]).values_list("orgunit__code", flat=True))  # fmt: skip
    unapproved = sorted(set(seen["approved"]) - approved)
    print(json.dumps({"values": len(seen["saved"]), "lost": lost[:10], "lost_count": len(lost),
                      "approvals": len(seen["approved"]), "not_approved": unapproved[:10],
                      "not_approved_count": len(unapproved)}))  # fmt: skip


# ---- HTTP ------------------------------------------------------------------------------


def _request(method: str, path: str, body: str = "", headers=None):
    import http.client

    conn = http.client.HTTPConnection(HOST, PORT, timeout=TIMEOUT)
    try:
        conn.request(method, path, body=body.encode(), headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def _cookies(headers) -> dict[str, str]:
    found = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            found[key] = rest.split(";")[0]
    return found


class Session:
    """One person's browser: cookies (session, CSRF token)."""

    def __init__(self, username: str):
        status, headers, body = _request("GET", "/login/")
        cookies = _cookies(headers)
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
        form = urllib.parse.urlencode({"username": username, "password": PASSWORD,
                                       "csrfmiddlewaretoken": token})  # fmt: skip
        status, headers, _ = _request("POST", "/login/", form, {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookies['csrftoken']}",
            "Referer": f"http://{HOST}:{PORT}/login/"})  # fmt: skip
        cookies.update(_cookies(headers))
        if status != 302 or "sessionid" not in cookies:
            raise RuntimeError(f"login of {username} failed: HTTP {status}")
        self.cookies = cookies

    @classmethod
    def kept(cls, cookies: dict[str, str]) -> Session:
        session = cls.__new__(cls)
        session.cookies = dict(cookies)
        return session

    def headers(self, extra=None) -> dict:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {"Cookie": cookie, **(extra or {})}

    def get(self, path: str):
        status, headers, body = _request("GET", path, headers=self.headers())
        self.cookies.update(_cookies(headers))
        return status, headers, body

    def post(self, path: str, fields: dict, extra=None):
        headers = self.headers({"Content-Type": "application/x-www-form-urlencoded",
                                "Referer": f"http://{HOST}:{PORT}{path}", **(extra or {})})  # fmt: skip
        status, headers, body = _request("POST", path, urllib.parse.urlencode(fields), headers)
        self.cookies.update(_cookies(headers))
        return status, headers, body


class FormInputs(HTMLParser):
    """name -> value of the inputs and selects inside <form id=...> (or the whole page)."""

    def __init__(self, form_id: str | None = None):
        super().__init__()
        self.form_id, self.inside, self.values = form_id, form_id is None, {}
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and self.form_id is not None:
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("checkbox", "submit"):
            self.values[a["name"]] = html.unescape(a.get("value") or "")
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self.values.setdefault(self._select, "")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        if tag == "form" and self.form_id is not None:
            self.inside = False


def inputs(body: bytes, form_id: str | None = None) -> dict[str, str]:
    parser = FormInputs(form_id)
    parser.feed(body.decode())
    return parser.values


# ---- the load --------------------------------------------------------------------------


class Record:
    def __init__(self):
        self.lock = threading.Lock()
        self.timings: dict[str, list[float]] = {}
        self.errors: dict[str, list[str]] = {}
        self.saved: dict[str, float] = {}  # "unit|element" -> last value saved
        # values sent after it whose answer never came (a timeout): the server may have
        # stored one of them after the client gave up, which is no lost update
        self.unanswered: dict[str, list[float]] = {}
        self.approved: list[str] = []
        self.refused = 0  # a value a rule refused (the person's typing, not the server)

    def add(self, action: str, seconds: float, error: str | None = None) -> None:
        with self.lock:
            self.timings.setdefault(action, []).append(seconds)
            if error:
                self.errors.setdefault(action, []).append(error)


def timed(record: Record, action: str, call, ok=lambda status, body: status == 200):
    started = time.perf_counter()
    try:
        status, headers, body = call()
    except OSError as error:
        record.add(action, time.perf_counter() - started, f"{type(error).__name__}: {error}")
        return None
    seconds = time.perf_counter() - started
    record.add(action, seconds, None if ok(status, body) else f"HTTP {status}")
    return status, headers, body


def clerk(plan: dict, session: Session, record: Record, deadline: float, every: float, n: int):
    rng = random.Random(n)
    time.sleep(rng.uniform(0, every))  # clerks arrive over the first interval
    entry = f"/collection/{plan['unit']}/{MONTH}/"
    opened = timed(record, "page: form", lambda: session.get(entry))
    if opened is None or opened[0] != 200:
        return
    form = inputs(opened[2], "entry-form")
    token = form.get("csrfmiddlewaretoken", "")
    codes = list(plan["fields"])
    time.sleep(rng.uniform(0.5 * every, 1.5 * every))  # reading the form
    turn = 0
    while time.monotonic() < deadline:
        code = codes[turn % len(codes)]
        turn += 1
        typed = max(1, round(plan["fields"][code] * rng.uniform(0.9, 1.1)))
        if form.get(code) == str(typed):
            typed += 1
        fields = {**form, code: str(typed)}
        key = f"{plan['unit']}|{code}"
        with record.lock:  # until answered: a request that timed out may still be stored
            record.unanswered.setdefault(key, []).append(float(typed))
        url = f"/collection/{plan['unit']}/{MONTH}/value/{code}/"
        answer = timed(record, "save", lambda f=fields, u=url: session.post(u, f, {"X-CSRFToken": token,
                       "HX-Request": "true"}))  # fmt: skip
        if answer is None or answer[0] != 200:
            continue
        body = answer[2]
        if b'class="warning"' in body and b'class="saved"' not in body:  # confirm the jump
            answer = timed(record, "save", lambda f=fields, u=url: session.post(
                u, {**f, "confirm": "1"}, {"X-CSRFToken": token, "HX-Request": "true"}))  # fmt: skip
            if answer is None or answer[0] != 200:
                continue
            body = answer[2]
        if b'class="conflict"' in body:
            record.add("save", 0.0, f"conflict on {plan['unit']} {code}")  # never expected
        elif b'class="saved"' in body:
            field = inputs(body)
            for name in (code, f"version_{code}", f"was_{code}", f"was_comment_{code}"):
                form[name] = field.get(name, form.get(name, ""))
            with record.lock:
                record.saved[key] = float(typed)
                record.unanswered[key] = []
        else:
            with record.lock:
                record.refused += 1
        time.sleep(rng.uniform(0.5 * every, 1.5 * every))


def supervisor(plan: dict, session: Session, record: Record, deadline: float, n: int):
    rng = random.Random(1000 + n)
    time.sleep(rng.uniform(0, 5))
    for code in plan["units"]:
        if time.monotonic() > deadline:
            return
        entry = f"/collection/{code}/{MONTH}/"
        opened = timed(record, "page: form", lambda e=entry: session.get(e))
        if opened is None or opened[0] != 200:
            continue
        match = re.search(rb'action="[^"]*/approve/"[^>]*>.*?name="csrfmiddlewaretoken" value="'
                          rb'([^"]+)".*?name="version" value="(\d+)"', opened[2], re.S)  # fmt: skip
        if match is None:
            record.add("approve", 0.0, f"{code}: no approve button on the page")
            continue
        fields = {"csrfmiddlewaretoken": match.group(1).decode(),
                  "version": match.group(2).decode(), "confirmed": "1"}  # fmt: skip
        answer = timed(record, "approve", lambda e=entry, f=fields: session.post(
            f"{e}approve/", f), ok=lambda status, body: status == 302)  # fmt: skip
        if answer is not None and answer[0] == 302:
            after = timed(record, "page: form", lambda e=entry: session.get(e))
            if after is not None and b"/unapprove/" not in after[2]:
                record.add("approve", 0.0, f"{code}: refused")
            else:
                with record.lock:
                    record.approved.append(code)
        time.sleep(rng.uniform(3, 7))


def viewer(plan: dict, session: Session, record: Record, deadline: float, n: int):
    rng = random.Random(2000 + n)
    time.sleep(rng.uniform(0, 5))
    turn = n
    while time.monotonic() < deadline:
        which = ("county", "city")[turn % 2]
        turn += 1
        path = f"/evaluation/?orgunit={plan[which]}"
        timed(record, f"page: {which} scorecard", lambda p=path: session.get(p))
        time.sleep(rng.uniform(2.5, 7.5))


def run_load(name: str, plan: dict, args) -> tuple[Record, float, dict[str, float]]:
    record = Record()
    actors = ([(clerk, p) for p in plan["clerks"][: args.clerks]]
              + [(supervisor, p) for p in plan["supervisors"][: args.supervisors]]
              + [(viewer, p) for p in plan["viewers"][: args.viewers]])  # fmt: skip
    started = time.perf_counter()
    sessions = _sessions(name, [p["user"] for _kind, p in actors])
    print(f"  {len(actors)} sessions in {time.perf_counter() - started:.0f} s", flush=True)
    if args.viewers:
        _warm(sessions[-args.viewers :], [p for _kind, p in actors[-args.viewers :]], args)
    cpu = _server_cpu()
    deadline = time.monotonic() + args.duration
    started = time.perf_counter()
    threads = []
    for n, ((kind, p), s) in enumerate(zip(actors, sessions, strict=True)):
        call = (lambda k=kind, p=p, s=s, n=n: k(p, s, record, deadline, args.every, n)) \
            if kind is clerk else (lambda k=kind, p=p, s=s, n=n: k(p, s, record, deadline, n))  # fmt: skip
        threads.append(threading.Thread(target=call, daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=args.duration + 2 * TIMEOUT + 10)
    return record, time.perf_counter() - started, _cpu_since(cpu)


def _warm(sessions: list[Session], viewers: list[dict], args) -> None:
    """The steady state of a server that has been up: every viewer's county and city
    scorecard computed in every worker (each worker keeps its own cache, decision 0003), as
    a month-end morning finds them (2025's figures do not change while November 2026's are
    saved, decision 0019). Rounds of all the pages at once, as many at a time as the server
    has threads, until a whole round is answered from the caches (each page within 1 s) or
    after 8 rounds; the time it took is printed (the cold start, not measured as W7)."""
    distinct = {f"/evaluation/?orgunit={viewer[which]}": session
                for session, viewer in zip(sessions, viewers, strict=True)
                for which in ("county", "city")}  # fmt: skip
    started, rounds, slowest = time.perf_counter(), 0, 0.0
    for rounds in range(1, 9):  # noqa: B007 - printed below
        times = _warm_round(list(distinct.items()) * args.workers, args.workers * args.threads)
        slowest = max(times)
        if slowest < 1.0:
            break
    print(f"  warm-up: {len(distinct)} scorecards in every worker, {rounds} rounds,"
          f" {time.perf_counter() - started:.0f} s (slowest of the last round"
          f" {slowest * 1000:.0f} ms)", flush=True)  # fmt: skip


def _warm_round(queue: list[tuple[str, Session]], threads_count: int) -> list[float]:
    """Each (path, session) of `queue` requested once, `threads_count` at a time: the times."""
    times: list[float] = []
    lock = threading.Lock()

    def one() -> None:
        while True:
            with lock:
                if not queue:
                    return
                path, session = queue.pop()
            began = time.perf_counter()
            with contextlib.suppress(OSError):  # past the timeout: the next round asks again
                session.get(path)
            with lock:
                times.append(time.perf_counter() - began)

    threads = [threading.Thread(target=one) for _ in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times


def _sessions(name: str, users: list[str]) -> list[Session]:
    """A logged-in session per user: real logins (the login page, its CSRF token, the
    production password hasher), kept in BASE/<name>-sessions.json for the next run while
    the server still knows them (350 logins are minutes of PBKDF2 on a busy 2-core machine)."""
    kept_file = BASE / f"{name}-sessions.json"
    kept = json.loads(kept_file.read_text()) if kept_file.exists() else {}
    found: dict[str, Session] = {}
    lock = threading.Lock()

    def one(users_part: list[str]) -> None:
        for user in users_part:
            session = Session.kept(kept[user]) if user in kept else None
            if session is not None:
                status, _headers, _body = session.get("/notices/")
                session = session if status == 200 else None
            session = session or Session(user)
            with lock:
                found[user] = session

    threads = [threading.Thread(target=one, args=(users[k::8],)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    kept_file.write_text(json.dumps({u: s.cookies for u, s in found.items()}))
    return [found[u] for u in users]


_server_pid = 0


def _server_cpu() -> dict[str, float]:
    """CPU seconds so far of the server's processes (children of the server's process), by
    what they are: the gunicorn workers ("web"), the warehouse maintainer, the document pool;
    of the PostgreSQL server ("postgres": every process, and the backends that ended, which
    the postmaster reaped: the whole server, shared with nothing else on a quiet machine) and
    of this generator ("generator")."""
    tick, found = os.sysconf("SC_CLK_TCK"), {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            name = stat.read_text().split("(", 1)[1].rsplit(")", 1)[0]
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue
        seconds = (int(fields[11]) + int(fields[12])) / tick
        if int(fields[1]) == _server_pid:
            kind = ("warehouse maintainer" if "maintain" in command
                    else "document pool" if "document_worker" in command else "web")  # fmt: skip
        elif name.startswith("postgres"):
            kind = "postgres"
            if "bin/postgres" in command:  # the postmaster: its ended backends' CPU too
                seconds += (int(fields[13]) + int(fields[14])) / tick
        elif int(stat.parent.name) == os.getpid():
            kind = "generator"
        else:
            continue
        found[kind] = found.get(kind, 0.0) + seconds
    return found


def _cpu_since(before: dict[str, float]) -> dict[str, float]:
    now = _server_cpu()
    return {kind: now[kind] - before.get(kind, 0.0) for kind in sorted(now)}


# ---- one database --------------------------------------------------------------------------


def _env(name: str) -> dict:
    var = BASE / f"var-{name}"
    return {**os.environ, "XINGLIN_DATABASE_URL": DATABASES[name], "XINGLIN_VAR_DIR": str(var),
            "XINGLIN_ALLOWED_HOSTS": HOST, "PYTHONPATH": str(ROOT)}  # fmt: skip


def ensure_database() -> None:
    """The bench's PostgreSQL database, created when missing (loaded by `prepare`)."""
    import psycopg

    with psycopg.connect(PG_URL + "postgres", autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                         [PG_DATABASE]).fetchone() is None:  # fmt: skip
            admin.execute(f"CREATE DATABASE {PG_DATABASE}")


def bench_database(name: str, args) -> dict:
    global _server_pid  # noqa: PLW0603 — the running server, stopped on exit
    print(f"{LABELS[name]}:", flush=True)
    if name == "postgres":
        ensure_database()
    else:
        (BASE / "sqlite").mkdir(parents=True, exist_ok=True)
    env = _env(name)
    started = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--child", "prepare", name], env=env, check=True)
    print(f"  prepared in {time.perf_counter() - started:.0f} s", flush=True)
    plan = json.loads((BASE / f"{name}-plan.json").read_text())
    server_env = {**env, "XINGLIN_WORKERS": str(args.workers), "XINGLIN_THREADS": str(args.threads)}
    log = open(BASE / f"{name}-server.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen([str(Path(sys.executable).parent / "xinglin"), "serve", "--bind",
                               f"{HOST}:{PORT}"], env=server_env, cwd=ROOT, stdout=log,
                              stderr=subprocess.STDOUT)  # fmt: skip
    _server_pid = server.pid
    try:
        _wait_until_up()
        load = os.getloadavg()
        record, seconds, cpu = run_load(name, plan, args)
        load_after = os.getloadavg()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        log.close()
    seen = {"saved": record.saved, "unanswered": record.unanswered, "approved": record.approved}
    (BASE / f"{name}-seen.json").write_text(json.dumps(seen))
    out = subprocess.run([sys.executable, __file__, "--child", "verify", name], env=env,
                         check=True, capture_output=True, text=True)  # fmt: skip
    verified = json.loads(out.stdout.strip().splitlines()[-1])
    result = {"record": record, "seconds": seconds, "cpu": cpu, "verified": verified,
              "load": (load, load_after)}  # fmt: skip
    _print_database(name, result)
    return result


def _wait_until_up() -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            _request("GET", "/login/")
            return
        except OSError:
            time.sleep(0.5)
    sys.exit("the server did not start within 120 s")


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50": statistics.median(values), "p95": _quantile(values, 0.95),
            "p99": _quantile(values, 0.99), "max": max(values)}  # fmt: skip


def _actions(record: Record) -> dict[str, dict]:
    found = {a: _stats([t for t in ts if t > 0]) for a, ts in sorted(record.timings.items())}
    pages = [t for a, ts in record.timings.items() if a.startswith("page") for t in ts]
    found["all pages"] = _stats(pages)
    for action, stats in found.items():
        errors = record.errors.get(action, []) if action != "all pages" else [
            e for a, es in record.errors.items() if a.startswith("page") for e in es]  # fmt: skip
        stats["errors"] = len(errors)
        stats["first_errors"] = errors[:3]
    return found


def _print_database(name: str, result: dict) -> None:
    record, v = result["record"], result["verified"]
    requests = sum(len(t) for t in record.timings.values())
    server = sum(v for k, v in result["cpu"].items() if k not in ("postgres", "generator"))
    print(f"  {requests} requests in {result['seconds']:.0f} s ({requests / result['seconds']:.0f}"
          f"/s), server CPU {server:.0f} s ({server / result['seconds']:.2f} cores,"
          f" {server / max(requests, 1) * 1000:.0f} ms a request); load average"
          f" {result['load'][0][0]:.1f} before, {result['load'][1][0]:.1f} after", flush=True)  # fmt: skip
    print("    CPU by process: " + ", ".join(
        f"{kind} {seconds:.0f} s ({seconds / result['seconds']:.2f} cores)"
        for kind, seconds in result["cpu"].items()), flush=True)  # fmt: skip
    for action, s in _actions(record).items():
        if not s["n"]:
            continue
        print(f"    {action:24} {s['n']:6} p50 {s['p50'] * 1000:6.0f} ms  p95 {s['p95'] * 1000:6.0f}"
              f" ms  p99 {s['p99'] * 1000:6.0f} ms  max {s['max'] * 1000:6.0f} ms  errors"
              f" {s['errors']}{' ' + str(s['first_errors']) if s['errors'] else ''}")  # fmt: skip
    print(f"    values refused by a rule (typing, not the server): {record.refused}")
    print(f"    lost updates: {v['lost_count']} of {v['values']} values read back (the last"
          f" answered save, or a later one whose answer timed out)"
          f"{' ' + str(v['lost']) if v['lost'] else ''}; approvals not in the database:"
          f" {v['not_approved_count']} of {v['approvals']}", flush=True)  # fmt: skip


def _compare(results: dict) -> None:
    if len(results) < 2:
        return
    pg, lite = (_actions(results[n]["record"]) for n in ("postgres", "sqlite"))
    print("\nW7 side by side (p95; ratio = PostgreSQL / SQLite):")
    for action in pg:
        if action not in lite or not pg[action]["n"] or not lite[action]["n"]:
            continue
        a, b = pg[action]["p95"], lite[action]["p95"]
        target = TARGETS["save" if action in ("save", "approve") else "page"]
        print(f"  {action:24} PostgreSQL {a * 1000:6.0f} ms ({pg[action]['errors']} errors)  SQLite"
              f" {b * 1000:6.0f} ms ({lite[action]['errors']} errors)  ratio {a / b:5.2f}"
              f"  target {target * 1000:.0f} ms: PostgreSQL {'met' if a <= target else 'NOT met'},"
              f" SQLite {'met' if b <= target else 'NOT met'}")  # fmt: skip


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        {"prepare": child_prepare, "verify": child_verify}[sys.argv[2]](sys.argv[3])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=90.0, help="seconds of load")
    parser.add_argument("--only", choices=tuple(DATABASES))
    parser.add_argument("--clerks", type=int, default=CLERKS)
    parser.add_argument("--supervisors", type=int, default=SUPERVISORS)
    parser.add_argument("--viewers", type=int, default=VIEWERS)
    parser.add_argument("--every", type=float, default=10.0, help="mean seconds between saves")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("XINGLIN_WORKERS", "3")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("XINGLIN_THREADS", "4")))
    args = parser.parse_args()
    if not (0 < args.duration <= MAX_SECONDS and 0 <= args.clerks <= CLERKS
            and 0 <= args.supervisors <= SUPERVISORS and 0 <= args.viewers <= VIEWERS
            and args.every >= 1):  # fmt: skip
        sys.exit(f"bounds: duration <= {MAX_SECONDS} s, at most {CLERKS} clerks,"
                 f" {SUPERVISORS} supervisors, {VIEWERS} viewers, a save every >= 1 s")  # fmt: skip
    BASE.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    manifest = generate()
    print(f"W7 month-end: province of {manifest['orgunits']:,} org units"
          f" ({manifest['institutions']:,} institutions), {manifest['values']:,} values"
          f" ({manifest['november']:,} of them November {MONTH[:4]}'s), generated in"
          f" {manifest['seconds']:.0f} s ({time.perf_counter() - started:.0f} s now);"
          f" {args.clerks} clerks saving every ~{args.every:g} s, {args.supervisors} supervisors,"
          f" {args.viewers} viewers, {args.duration:g} s per database; `xinglin serve`"
          f" {args.workers} workers x {args.threads} threads; {os.cpu_count()} cores",
          flush=True)  # fmt: skip
    results = {}
    for name in (args.only,) if args.only else ("postgres", "sqlite"):
        results[name] = bench_database(name, args)
    _compare(results)


if __name__ == "__main__":
    main()

"""Documents generated in the background, bounded and cached (issues 20.7 and 21.5).

- **Cached per data generation.** A file is kept under `var/documents/` by a key made of the
  data generation (`core.generation`: every table a document reads is in its TABLES, the
  officer's narratives and typical cases too), the report, org unit, year, format and today's
  date (progress is judged as of today). A document of unchanged data is served from there at
  once; any write makes a new key, so the next request generates again.
- **One generation per user.** A user has at most one job queued or running (a database
  constraint, so two parallel requests cannot both start one): a second request for the same
  file joins the first, a request for another file is told to wait for it.
- **A small pool.** Jobs are django-tasks tasks on its database backend; `pool.py` runs
  `settings.DOCUMENT_WORKERS` of them at a time (default 2), whatever the number of requests.
- **Progress.** The task writes its step and percent into the job row; the page polls
  `jobs/<id>.json`.
- **Large values exports** (collection's values.xlsx / values.json above
  EXPORT_BACKGROUND_ROWS values) are jobs of kind VALUES: the same row, pool, cache (keyed also
  by the user, whose scope the file holds, and the period), progress page and download.
"""

from __future__ import annotations

import hashlib
import os
import time
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_tasks import task

from xinglin.collection import exports
from xinglin.core import generation
from xinglin.documents import pool
from xinglin.documents.content import build_report
from xinglin.documents.formats import FORMATS
from xinglin.documents.gather import gather
from xinglin.documents.models import ACTIVE, VALUES, DocumentJob, JobStatus, JobStep
from xinglin.documents.pool import folder
from xinglin.evaluation import cache
from xinglin.network.models import OrgUnit

UNCACHED = "uncached"  # the key of a job whose data generation could not be read
VERSION = "1"  # raise when the layout changes: files cached before are not served again


class Busy(Exception):
    """The user already has another document in preparation (the job is `job`)."""

    def __init__(self, job: DocumentJob):
        super().__init__(f"job {job.pk} is still being prepared")
        self.job = job


def cache_key(
    kind: str, orgunit: OrgUnit | None, year: int, fmt: str, extra: str = ""
) -> str | None:
    """The key of the file for today's data, or None when the data generation cannot be read
    (then nothing is cached). `extra`: what else the file depends on (a values export: the
    user, whose scope it holds, and the period).

    A document of an org unit and year reads the years up to it, of the unit and what lies
    beneath (besides the plans, narratives and cases, whose every write changes every
    scope): its key holds that scope's generation (decision 0019), so a save of a later
    year or of another county keeps the file. Other files hold everything's generation."""
    scope = generation.Scope.of(orgunit.path, None, year) if orgunit and kind != VALUES else None
    token = generation.current(scope=scope)
    if token is None:
        return None
    database = str(connection.settings_dict["NAME"])  # two databases never share a key
    unit = str(orgunit.pk) if orgunit is not None else "-"
    text = "|".join([VERSION, database, token, kind, unit, str(year), fmt,
                     date.today().isoformat(), extra])  # fmt: skip
    return hashlib.sha256(text.encode()).hexdigest()


def cached_file(key: str | None, fmt: str) -> Path | None:
    if key is None:
        return None
    path = folder() / f"{key}.{fmt}"
    return path if path.is_file() else None


def job_file(job: DocumentJob) -> Path:
    return folder() / f"job-{job.pk}.{job.fmt}"


def values_extra(user, period: str) -> str:
    """The `extra` of a values export's key: its rows are the user's scope, for the period."""
    return f"{user.pk}|{period}"


def key_of(job: DocumentJob) -> str | None:
    """The cache key of the job's file for today's data."""
    extra = values_extra(job.user, job.period) if job.kind == VALUES else ""
    return cache_key(job.kind, job.orgunit, job.year, job.fmt, extra)


def start_or_join(user, kind: str, orgunit: OrgUnit | None, year: int, fmt: str, filename: str,
                  period: str = ""):  # fmt: skip
    """The user's job for this file: the one already under way, or a new one enqueued.
    Raises Busy when the user's job under way is for another file. A values export (kind
    VALUES) names its `period` ("" for all)."""
    extra = values_extra(user, period) if kind == VALUES else ""
    key = cache_key(kind, orgunit, year, fmt, extra) or UNCACHED
    _expire_stale(user)
    same = {"orgunit": orgunit, "year": year, "kind": kind, "fmt": fmt, "period": period}
    try:
        with transaction.atomic():
            job = DocumentJob.objects.create(user=user, key=key, filename=filename, **same)
    except IntegrityError:  # the user has a job under way (perhaps a parallel request's)
        active = DocumentJob.objects.filter(user=user, status__in=ACTIVE).first()
        if active is None:
            raise
        wanted = (orgunit.pk if orgunit else None, year, kind, fmt, period)
        if (active.orgunit_id, active.year, active.kind, active.fmt, active.period) == wanted:
            return active
        raise Busy(active) from None
    _enqueue(job.pk)  # requests are not atomic: the job row is committed already
    return job


def _enqueue(job_id: int) -> None:
    generate_document.enqueue(job_id)
    pool.ensure_running()


def _expire_stale(user) -> None:
    """A job a stopped server left queued or running does not block its user for ever."""
    limit = timezone.now() - timedelta(seconds=settings.DOCUMENT_TIMEOUT_SECONDS)
    DocumentJob.objects.filter(user=user, status__in=ACTIVE, created_at__lt=limit).update(
        status=JobStatus.FAILED, step=JobStep.FAILED, finished_at=timezone.now(),
        error="timed out",
    )  # fmt: skip


def wait(job: DocumentJob, seconds: float) -> DocumentJob:
    """The job, refreshed, once it is finished or `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while True:
        job.refresh_from_db()
        if job.status not in ACTIVE or time.monotonic() >= deadline:
            return job
        time.sleep(0.1)


def _progress(job_id: int, step: str, percent: int, **fields) -> None:
    DocumentJob.objects.filter(pk=job_id).update(step=step, progress=percent, **fields)


@task()
def generate_document(job_id: int) -> str:
    """Write the job's file (and keep it in the cache when the data did not change while it
    was written). Returns the file's name."""
    job = DocumentJob.objects.select_related("orgunit", "user").get(pk=job_id)
    if job.status not in ACTIVE:
        return ""
    _progress(job_id, JobStep.GATHER, 10, status=JobStatus.RUNNING)
    try:
        content, keep = cache.keepable(lambda: _render(job))
    except Exception as error:
        _progress(job_id, JobStep.FAILED, 100, status=JobStatus.FAILED,
                  finished_at=timezone.now(), error=str(error)[:2000])  # fmt: skip
        raise
    path = job_file(job)
    _write(path, content)
    # not kept when the data changed meanwhile, or when figures came from a warehouse copy
    # that lagged the database (decision 0014): the next request renders them again
    if keep and job.key != UNCACHED and key_of(job) == job.key:
        _keep(path, folder() / f"{job.key}.{job.fmt}")
    _progress(job_id, JobStep.DONE, 100, status=JobStatus.DONE, finished_at=timezone.now())
    return path.name


def _render(job: DocumentJob) -> bytes:
    if job.kind == VALUES:
        return _render_values(job)

    data = gather(job.kind, job.orgunit, job.year)
    _progress(job.pk, JobStep.COMPOSE, 45)
    report = build_report(data)
    _progress(job.pk, JobStep.RENDER, 65)
    renderer, _content_type = FORMATS[job.fmt]
    return renderer(report, data)


def _render_values(job: DocumentJob) -> bytes:
    """The values export, exactly as collection's values.<fmt> makes it at once."""

    rows = exports.value_rows(orgunit=job.orgunit, period=job.period or None, user=job.user)
    _progress(job.pk, JobStep.RENDER, 40)
    return exports.render(rows, job.fmt)


def render_cached(kind: str, orgunit: OrgUnit, year: int, fmt: str, render) -> bytes:
    """`render()`'s bytes, or the cached file's for today's data (used by the command line)."""
    key = cache_key(kind, orgunit, year, fmt)
    path = cached_file(key, fmt)
    if path is not None:
        return path.read_bytes()
    content, keep = cache.keepable(render)
    if keep and key is not None and cache_key(kind, orgunit, year, fmt) == key:
        _write(folder() / f"{key}.{fmt}", content)
    return content


def _write(path: Path, content: bytes) -> None:
    partial = path.with_name(path.name + f".{os.getpid()}.part")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    os.replace(partial, path)
    _prune()


def _keep(source: Path, target: Path) -> None:
    partial = target.with_name(target.name + f".{os.getpid()}.part")
    try:
        os.link(source, partial)
    except OSError:
        return
    os.replace(partial, target)


def _prune() -> None:
    """At most DOCUMENT_CACHE_FILES files are kept; the oldest go first."""
    files = []
    for path in folder().iterdir():
        try:
            if not path.name.endswith(".part"):
                files.append((path.stat().st_mtime, path))
        except FileNotFoundError:  # removed by another process meanwhile
            continue
    for _mtime, path in sorted(files, reverse=True)[settings.DOCUMENT_CACHE_FILES :]:
        path.unlink(missing_ok=True)

"""Backup and restore of the whole instance: the database and the uploaded files.

The archive is a .tar.gz with `manifest.json`, the database (`database.sqlite3`, taken with
SQLite's online backup API, or `database.pgdump`, pg_dump's custom format) and `files/`
(settings.MEDIA_ROOT: evidence and other uploads). Restore refuses an archive of another
database engine, and replaces the files only after the database restore succeeded."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connection

FORMAT = 1


class BackupError(RuntimeError):
    """A backup or restore that could not be done; the message says why."""


def _engine() -> str:
    return "sqlite" if connection.vendor == "sqlite" else "postgresql"


def backup(target: Path) -> dict:
    """Write the archive to `target` (atomically: a partial archive never has its name)."""
    target = Path(target)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        database = _dump_database(work)
        manifest = {
            "format": FORMAT,
            "engine": _engine(),
            "database": database.name,
            "created_at": datetime.now(UTC).isoformat(),
        }
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2))
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(work / "manifest.json", arcname="manifest.json")
            archive.add(database, arcname=database.name)
            media = Path(settings.MEDIA_ROOT)
            if media.is_dir():
                archive.add(media, arcname="files")
        os.replace(partial, target)
    return manifest


def restore(source: Path) -> dict:
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source}: no such file")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        manifest = _unpack(source, work)
        if manifest.get("engine") != _engine():
            raise BackupError(
                f"{source} is a {manifest.get('engine')} backup; this instance runs on {_engine()}"
            )
        _load_database(work / manifest["database"])
        _replace_files(work / "files")
    return manifest


def _unpack(source: Path, work: Path) -> dict:
    try:
        with tarfile.open(source, "r:gz") as archive:
            archive.extractall(work, filter="data")
        manifest = json.loads((work / "manifest.json").read_text())
    except (tarfile.TarError, OSError, ValueError) as error:
        raise BackupError(f"{source} is not a Xinglin backup ({error})") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source}: unknown backup format {manifest.get('format')!r}")
    return manifest


def _dump_database(work: Path) -> Path:
    connection.ensure_connection()
    if _engine() == "sqlite":
        path = work / "database.sqlite3"
        target = sqlite3.connect(path)
        try:
            connection.connection.backup(target)
        except sqlite3.Error as error:
            # e.g. "disk I/O error" when the disk is full: a clear error, not a traceback.
            raise BackupError(f"the database copy failed: {error}") from error
        finally:
            target.close()
        return path
    path = work / "database.pgdump"
    _run_pg(["pg_dump", "--format=custom", "--no-owner", f"--file={path}"])
    return path


def _load_database(path: Path) -> None:
    connection.ensure_connection()
    if _engine() == "sqlite":
        source = sqlite3.connect(path)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
        return
    connection.close()
    _run_pg(
        ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", str(path)],
        database_flag="--dbname",
    )


def _run_pg(command: list[str], database_flag: str = "") -> None:
    db = connection.settings_dict
    name = db["NAME"]
    args = list(command)
    if db.get("HOST"):
        args.append(f"--host={db['HOST']}")
    if db.get("PORT"):
        args.append(f"--port={db['PORT']}")
    if db.get("USER"):
        args.append(f"--username={db['USER']}")
    args.append(f"{database_flag}={name}" if database_flag else name)
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    result = subprocess.run(args, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[:500]}")


def _replace_files(unpacked: Path) -> None:
    media = Path(settings.MEDIA_ROOT)
    old = media.with_name(media.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if media.exists():
        media.rename(old)
    if unpacked.is_dir():
        shutil.copytree(unpacked, media)
    else:
        media.mkdir(parents=True)
    shutil.rmtree(old, ignore_errors=True)

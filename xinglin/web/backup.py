"""Backup and restore of the whole instance: the database and the uploaded files.

The archive is a .tar.gz with `manifest.json`, the database (`database.sqlite3`, taken with
SQLite's online backup API, or `database.pgdump`, pg_dump's custom format) and `files/`
(settings.MEDIA_ROOT: evidence and other uploads). Restore refuses an archive of another
database engine, and replaces the files only after the database restore succeeded.

Residents are matched by a keyed hash of their ID number (care.personal_id), so a database
restored under another key would take every returning person for a new one (issue 20.3). The
manifest carries a check value of the key (an HMAC of a fixed text, which does not reveal
it); with XINGLIN_BACKUP_PASSPHRASE the archive also carries the key itself, encrypted
(scrypt + Fernet), and a restore installs it in var/personal_id_key. A restore whose key
cannot be made to match is refused before anything changes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.conf import settings
from django.db import connection

FORMAT = 1
KEY_FILE = "keys/personal_id_key.enc"
KEY_CHECK_TEXT = b"xinglin personal id key check"
SCRYPT = {"n": 2**15, "r": 8, "p": 1}


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
            "personal_id_key_check": key_check(settings.PERSONAL_ID_KEY),
            "personal_id_key": KEY_FILE if settings.BACKUP_PASSPHRASE else None,
        }
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2))
        partial = target.with_name(target.name + ".partial")
        # the archive holds personal data: readable by the owner only
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(descriptor)
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(work / "manifest.json", arcname="manifest.json")
            archive.add(database, arcname=database.name)
            if settings.BACKUP_PASSPHRASE:
                sealed = work / "personal_id_key.enc"
                sealed.write_bytes(seal_key(settings.PERSONAL_ID_KEY, settings.BACKUP_PASSPHRASE))
                archive.add(sealed, arcname=KEY_FILE)
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
        key = _restored_key(source, work, manifest)
        _load_database(work / manifest["database"])
        _replace_files(work / "files")
        if key is not None:
            _install_key(key)
        _forget_generated_documents()
    return manifest


def _forget_generated_documents() -> None:
    """Generated documents are cached per data generation; a restored database may bring back
    a generation token that stood for other data, so the cache starts empty."""
    cache = Path(settings.DOCUMENT_CACHE_DIR)
    if cache.is_dir():
        shutil.rmtree(cache)


# --- the ID-hash key ---------------------------------------------------------------------


def key_check(key: str) -> str:
    """A value that tells whether two keys are the same without revealing either."""
    return hmac.new(key.encode(), KEY_CHECK_TEXT, hashlib.sha256).hexdigest()


def _fernet(passphrase: str, salt: bytes):
    derived = Scrypt(salt=salt, length=32, **SCRYPT).derive(passphrase.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def seal_key(key: str, passphrase: str) -> bytes:
    salt = os.urandom(16)
    return salt + _fernet(passphrase, salt).encrypt(key.encode())


def open_key(sealed: bytes, passphrase: str) -> str:
    try:
        return _fernet(passphrase, sealed[:16]).decrypt(sealed[16:]).decode()
    except (InvalidToken, ValueError) as error:
        raise BackupError(
            "the backup's ID-hash key cannot be opened: XINGLIN_BACKUP_PASSPHRASE is not the "
            "passphrase it was written with"
        ) from error


def _restored_key(source: Path, work: Path, manifest: dict) -> str | None:
    """The key to install after the restore (None: keep this instance's), or BackupError
    before anything changed when the data's hashes could not match."""
    check = manifest.get("personal_id_key_check")
    if check is None or check == key_check(settings.PERSONAL_ID_KEY):
        return None  # an archive of before issue 20 or the same key: nothing to do
    if not manifest.get("personal_id_key"):
        raise BackupError(
            f"{source}: its ID numbers were hashed with another key than this instance's, so "
            "returning residents would not be recognised. Set XINGLIN_PERSONAL_ID_KEY to the "
            "original key, or take the backup with XINGLIN_BACKUP_PASSPHRASE set so that it "
            "carries the key"
        )
    if not settings.BACKUP_PASSPHRASE:
        raise BackupError(
            f"{source} carries its ID-hash key encrypted: set XINGLIN_BACKUP_PASSPHRASE to the "
            "passphrase it was written with"
        )
    key = open_key((work / manifest["personal_id_key"]).read_bytes(), settings.BACKUP_PASSPHRASE)
    if key_check(key) != check:
        raise BackupError(f"{source}: the key it carries does not match its check value")
    if os.environ.get("XINGLIN_PERSONAL_ID_KEY"):
        raise BackupError(
            f"{source} was hashed with another key than XINGLIN_PERSONAL_ID_KEY: unset it so "
            "that the restore installs the backup's key, or set it to the original key"
        )
    return key


def _install_key(key: str) -> None:
    path = Path(settings.PERSONAL_ID_KEY_FILE)
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key)
    os.replace(partial, path)
    settings.PERSONAL_ID_KEY = key


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

"""Settings, read from the environment (docs/configuration.md lists every variable)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONCE as CSP_NONCE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def _env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    return [part.strip() for part in raw.split(",") if part.strip()] if raw else default


# Everything the instance writes (the SQLite database, backups, evidence files, keys) holds
# personal data or secrets: readable by the instance's own user only, files 0600 and folders
# 0700 (issue 20.7). The umask covers every file the process creates from here on.
os.umask(0o077)
VAR_DIR = Path(os.environ.get("XINGLIN_VAR_DIR") or PROJECT_DIR / "var")
VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
VAR_DIR.chmod(0o700)


def _secret_key() -> str:
    """XINGLIN_SECRET_KEY, or a key generated once and kept under var/."""
    if key := os.environ.get("XINGLIN_SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("XINGLIN_DEBUG", False)
ALLOWED_HOSTS = _env_list("XINGLIN_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = _env_list("XINGLIN_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "xinglin.core",
    "xinglin.web",
    "xinglin.network",
    "xinglin.standards",
    "xinglin.collection",
    "xinglin.evaluation",
    "xinglin.care",
    "xinglin.plans",
    "xinglin.surveys",
    "xinglin.documents",
    "xinglin.api",
    "xinglin.notices",
    "xinglin.registers",
    "django_tasks",  # background documents (xinglin/documents/jobs.py)
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "xinglin.web.middleware.DefaultChineseLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "xinglin.web.middleware.PersonalNoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "xinglin.urls"
WSGI_APPLICATION = "xinglin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "xinglin.web.context.navigation",
                "xinglin.notices.context.unread",
            ],
        },
    }
]

DATABASE_URL = os.environ.get("XINGLIN_DATABASE_URL") or f"sqlite:///{VAR_DIR / 'xinglin.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# Parallel test runs on one PostgreSQL must not share a test database.
DATABASES["default"]["TEST"] = {"NAME": f"test_xinglin_{os.getpid()}"}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Content-Security-Policy (django-csp; issue 20.7): scripts only from our static files or an
# inline block carrying the request's nonce; no inline event handlers. Inline style
# attributes (chart sizes, bars) stay allowed: they cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", CSP_NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# lib is not an app: its catalogue (upload limits, lib/uploads.py) is named here
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "lib" / "locale"]
TIME_ZONE = os.environ.get("XINGLIN_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Evidence files and other uploads live outside the web root and are served by views
# that check the user's scope.
MEDIA_ROOT = Path(os.environ.get("XINGLIN_MEDIA_DIR") or VAR_DIR / "files")
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# An upload past XINGLIN_UPLOAD_MAX_MB is dropped as it streams in (lib/uploads.py).
FILE_UPLOAD_HANDLERS = [
    "xinglin.lib.uploads.BoundedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Stored uploads (evidence) for the instance's user only (Django's default is 0644; 20.7).
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

SESSION_COOKIE_AGE = int(os.environ.get("XINGLIN_SESSION_SECONDS", str(8 * 3600)))
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
HTTPS = _env_bool("XINGLIN_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
# The browsers' HSTS preload list is a decision for the domain's owner (often a government
# network centre), not for one application served under it.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

EMAIL_HOST = os.environ.get("XINGLIN_SMTP_HOST", "")
EMAIL_PORT = int(os.environ.get("XINGLIN_SMTP_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("XINGLIN_EMAIL_FROM", "xinglin@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("XINGLIN_LOG_LEVEL", "WARNING")},
}

# The keyed hash of personal identifiers (ID-card numbers) uses its own key, so that
# rotating the session secret does not break matching of care records.
# A restore into a fresh var/ writes the backup's key to var/personal_id_key (issue 20.3).
PERSONAL_ID_KEY_FILE = VAR_DIR / "personal_id_key"
PERSONAL_ID_KEY = (
    os.environ.get("XINGLIN_PERSONAL_ID_KEY")
    or (PERSONAL_ID_KEY_FILE.read_text().strip() if PERSONAL_ID_KEY_FILE.is_file() else "")
    or SECRET_KEY
)
# Backups carry the ID-hash key encrypted with this passphrase; without it they leave the
# key out and a restore checks that this instance's key is the one the data was hashed with.
BACKUP_PASSPHRASE = os.environ.get("XINGLIN_BACKUP_PASSPHRASE", "")
# The canonical base of every FHIR URL the API writes (Measure.url, fullUrl, references):
# this server's public address, never taken from a request's Host header (issue 23.4).
XINGLIN_FHIR_BASE = os.environ.get("XINGLIN_FHIR_BASE", "http://localhost:8000/api/v1/fhir/")


def _env_positive_int(name: str, default: int) -> int:
    text = os.environ.get(name, "")
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ImproperlyConfigured(f"{name} must be a whole number of at least 1, not {text!r}")
    return int(text)


# Personal API tokens stop working this many days after they were made (issue 20.4).
API_TOKEN_DAYS = _env_positive_int("XINGLIN_API_TOKEN_DAYS", 90)
# values.json / values.xlsx are built in memory: at most this many values (values.csv streams).
EXPORT_MAX_ROWS = _env_positive_int("XINGLIN_EXPORT_MAX_ROWS", 200_000)
# ...and above this many they are made as a background job with progress (issue 21.5).
EXPORT_BACKGROUND_ROWS = _env_positive_int("XINGLIN_EXPORT_BACKGROUND_ROWS", 20_000)

# Documents in the background (issues 20.7, 21.5; xinglin/documents/jobs.py and pool.py): tasks
# on django-tasks' database backend, run by DOCUMENT_WORKERS threads in one process (`xinglin
# serve` starts it; otherwise the first process that needs it). A download waits up to
# DOCUMENT_WAIT_SECONDS for its file before showing the progress page instead.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
DOCUMENT_WORKERS = _env_positive_int("XINGLIN_DOCUMENT_WORKERS", 2)
DOCUMENT_WAIT_SECONDS = float(os.environ.get("XINGLIN_DOCUMENT_WAIT_SECONDS", "1.5"))
DOCUMENT_TIMEOUT_SECONDS = _env_positive_int("XINGLIN_DOCUMENT_TIMEOUT_SECONDS", 600)
DOCUMENT_CACHE_DIR = VAR_DIR / "documents"
DOCUMENT_CACHE_FILES = _env_positive_int("XINGLIN_DOCUMENT_CACHE_FILES", 200)
# the pool's threads run this much below page requests (Linux nice; 0: the same)
DOCUMENT_NICE = int(os.environ.get("XINGLIN_DOCUMENT_NICE", "5"))


# The warehouse copy kept fresh (docs/decisions/0014-fresh-warehouse.md, xinglin/warehouse/fresh.py):
# once a copy exists (`xinglin warehouse export`), `xinglin serve` starts a maintainer that
# brings every committed write into it every WAREHOUSE_FRESH_SECONDS as a small delta file, and
# merges a year's deltas into its file when it holds WAREHOUSE_FRESH_COMPACT_FILES of them.
WAREHOUSE_FRESH = _env_bool("XINGLIN_WAREHOUSE_FRESH", True)
WAREHOUSE_FRESH_SECONDS = float(os.environ.get("XINGLIN_WAREHOUSE_FRESH_SECONDS", "2.0"))
WAREHOUSE_FRESH_COMPACT_FILES = _env_positive_int("XINGLIN_WAREHOUSE_FRESH_COMPACT_FILES", 50)


# Care records (assessments, guidance visits, HIS visits, rehabilitation, referrals) older than
# this many years are deleted by `xinglin care purge` (PIPL art. 19: kept no longer than needed).
CARE_RETENTION_YEARS = _env_positive_int("XINGLIN_CARE_RETENTION_YEARS", 10)
# The person who submitted a form cannot approve it (issue 18.5); off only for a one-person
# deployment.
SEPARATE_DUTIES = _env_bool("XINGLIN_SEPARATE_DUTIES", True)
# Uploads (issue 18.10), on every upload path (xinglin/lib/uploads.py): files larger than this,
# or with more rows (all sheets together) or a row wider than this, are refused (nothing kept),
# and the error reports of refused imports are removed after this many days.
UPLOAD_MAX_MB = _env_positive_int("XINGLIN_UPLOAD_MAX_MB", 50)
UPLOAD_MAX_ROWS = _env_positive_int("XINGLIN_UPLOAD_MAX_ROWS", 1_000_000)
UPLOAD_MAX_COLUMNS = _env_positive_int("XINGLIN_UPLOAD_MAX_COLUMNS", 1_000)
IMPORT_REPORT_DAYS = _env_positive_int("XINGLIN_IMPORT_REPORT_DAYS", 7)

# Beyond one machine (issue 25; xinglin/warehouse/spark.py, docs/national-deployment.md): the
# backend of city, province and national evaluations when a Parquet export exists —
# `warehouse` (DuckDB on this machine) or `spark` (Spark SQL over the same files) — and where
# Spark runs: `local[2]` (this machine), or a cluster's master URL (spark://host:7077, yarn).
LARGE_SCOPE_BACKEND = os.environ.get("XINGLIN_LARGE_SCOPE_BACKEND", "") or "warehouse"
if LARGE_SCOPE_BACKEND not in ("warehouse", "spark"):
    raise ImproperlyConfigured(
        f"XINGLIN_LARGE_SCOPE_BACKEND must be warehouse or spark, not {LARGE_SCOPE_BACKEND!r}"
    )
SPARK_MASTER = os.environ.get("XINGLIN_SPARK_MASTER", "") or "local[2]"

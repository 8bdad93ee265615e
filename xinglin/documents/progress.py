"""Task progress, rectification, evidence and completeness from the plans and collection apps.
Each function returns None when the app providing it is not there (or has no data model yet),
so a document says "no data" for that section instead of failing."""

from __future__ import annotations

from xinglin.network.models import OrgUnit


def task_progress(orgunit: OrgUnit, year: int) -> list[list[str]] | None:
    """Rows (plan, tasks, done, in progress, overdue) for the plans covering the org unit."""
    return None


def rectification(orgunit: OrgUnit, year: int) -> list[list[str]] | None:
    """Rows (what, owner, deadline, status) of the rectification tasks of the year."""
    return None


def evidence(orgunit: OrgUnit, year: int) -> dict[str, list[str]] | None:
    """File names of the evidence attached to each evidence indicator (by indicator id)."""
    return None


def completeness(orgunit: OrgUnit, year: int) -> list[dict] | None:
    """Per form: expected, submitted, approved (for the dashboard)."""
    return None


def recent_submissions(orgunit: OrgUnit, limit: int = 10) -> list[dict] | None:
    return None


def overdue_tasks(orgunit: OrgUnit) -> list[dict] | None:
    return None

"""Writes of the API app: personal tokens, code mappings, and data values received through
the API (checked and stored by collection's one write, `collection.actions.write`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from xinglin.api import tokens
from xinglin.api.models import ApiToken, CodeMapping
from xinglin.collection.actions import write
from xinglin.collection.batch import Candidate, Location, Problem
from xinglin.collection.models import Channel


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the token, which is never shown again."""
    prefix, token = tokens.new_token()
    row = ApiToken.objects.create(user=user, name=name, prefix=prefix, digest=tokens.digest(token))
    return row, token


def revoke_token(user: User, token_id: int) -> bool:
    """Revoke one of the user's own tokens; False when there is no such active token."""
    count = ApiToken.objects.filter(user=user, pk=token_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    return count == 1


def revoke_user_tokens(user: User) -> int:
    """Revoke every active token of `user` (a password reset or a deactivation)."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def load_mappings(rows: list[dict], scheme: str = "dhis2") -> int:
    """Replace the mappings of `scheme` by `rows` ({kind, code, external, name})."""
    with transaction.atomic():
        CodeMapping.objects.filter(scheme=scheme).delete()
        CodeMapping.objects.bulk_create(
            CodeMapping(
                scheme=scheme,
                kind=row["kind"],
                code=str(row["code"]),
                external=str(row["external"]),
                name=row.get("name", ""),
            )
            for row in rows
        )
    return len(rows)


@dataclass
class WriteResult:
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    is_stored: bool = True  # accepted (on a dry run: would be stored)
    dry_run: bool = False
    deleted: int = 0


def write_values(
    candidates: list[Candidate], user: User, *, confirmed: bool = False, dry_run: bool = False
) -> WriteResult:
    """All or nothing: the values are stored only when none has an error (nor an unconfirmed
    warning). Validation, scope, locks and audit are collection's `write`, as for the web;
    `dry_run` checks everything and writes nothing."""
    if unreadable := _with_nul(candidates):
        return WriteResult(problems=unreadable, is_stored=False)
    result = write(candidates, user=user, channel=Channel.API, confirm=confirmed, dry_run=dry_run)
    refused = result.errors or (result.warnings and not confirmed)
    return WriteResult(
        result.added,
        result.changed,
        result.unchanged,
        result.problems,
        is_stored=not refused,
        dry_run=dry_run,
        deleted=result.deleted,
    )


def _with_nul(candidates: list[Candidate]) -> list[Problem]:
    """Codes holding a NUL character (PostgreSQL cannot even look them up)."""
    problems = []
    for candidate in candidates:
        for name in ("element", "orgunit", "period"):
            if "\x00" in getattr(candidate, name):
                location = Location(candidate.location.row, name)
                problems.append(Problem(location, "must not contain the NUL character"))
    return problems

"""What of a person each role sees (PIPL; issue 20.1).

An 18-digit ID-card number is area (6) + birth date (8) + serial (3) + check (1). The area is
known from the institution, so a masked number that keeps the last four characters, shown beside
the full birth date, gives the whole number back. The rule here: nobody without the `export`
right can narrow a number below a thousand candidates from what a page shows.

- record-level pages (residents, assessments, children) are for the roles that enter and
  supervise records (access action `report`); viewers see aggregates only (403);
- beside a record in the user's `export` scope (the bureau administrator, the institution's own
  clerk): the stored mask (first and last four) and the birth date, as before;
- elsewhere (a township supervisor): the first four characters only and the age in years —
  about 730 possible birth dates × 1,000 serials / 2 (sex) = 365,000 candidates;
- a person whose health record belongs to an institution outside the user's `report` scope
  (found because a clerk typed their number) shows no name, sex or age at all;
- every record-level page and search is a `personal_view` security event (counts, never an
  identifier), and every response under /care/ and /api/v1/care/ is never cached
  (`Cache-Control: no-store`, `xinglin.web.middleware.PersonalNoStoreMiddleware`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied

from xinglin.core.models import EventKind
from xinglin.core.security import record_event
from xinglin.network import access

RECORDS_ACTION: access.Action = "report"
SHORT_MASK_KEEP = 4


def require_records(user: User | AnonymousUser) -> None:
    """Viewers (and liaisons) see aggregates only: a record-level page is a 403."""
    if not access.orgunits_for_user(user, RECORDS_ACTION).exists():
        raise PermissionDenied("record-level personal data")


def short_mask(masked: str) -> str:
    """6403**************: the first four characters (the prefecture, known anyway)."""
    keep = min(SHORT_MASK_KEEP, max(len(masked) - 4, 1))
    return masked[:keep] + "*" * (len(masked) - keep)


@dataclass(frozen=True)
class Shown:
    """What a page may print about one person for one user."""

    id: str
    name: str
    sex: str
    born: date | None  # the full birth date, only with the export right
    age: int | None  # years, otherwise

    @property
    def known(self) -> bool:
        return bool(self.name or self.sex or self.born or self.age is not None)


def shown(user: User | AnonymousUser, person, *, today: date | None = None) -> Shown:
    """`person` is a Resident or a Child (id_masked, name, sex, birth_date, institution)."""
    institution = person.institution
    if not access.can(user, RECORDS_ACTION, institution):
        return Shown(short_mask(person.id_masked), "", "", None, None)
    sex = person.get_sex_display() if person.sex else ""
    if access.can(user, "export", institution):
        return Shown(person.id_masked, person.name, sex, person.birth_date, None)
    age = None
    if person.birth_date is not None:
        day = today or date.today()
        born = person.birth_date
        age = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    return Shown(short_mask(person.id_masked), person.name, sex, None, age)


def audit_view(request, what: str, rows: int) -> None:
    """A record-level page or search, in the security log like an export (no identifier)."""
    record_event(EventKind.PERSONAL_VIEW, request=request, detail=f"{what}: {rows} rows")

"""A batch none of whose org units exists is refused row by row like any other unknown org
unit (issue 22.5: the API no longer guards against it; schemathesis once crashed the check
on it, a numpy reshape of an empty array)."""

from __future__ import annotations

import pytest
from django.utils.translation import gettext as _

from xinglin.collection.actions import write
from xinglin.collection.batch import Candidate, Location
from xinglin.collection.models import Channel, DataValue
from xinglin.standards.catalogue import sync_catalogue

HMC = "640323100001"  # 花马池镇卫生院


def _unknown(code: str) -> str:
    return _("unknown org unit “%(code)s”") % {"code": code}


def _messages(result) -> list[tuple[int, str, str]]:
    return sorted((p.location.row, p.location.field, p.message) for p in result.errors)


@pytest.mark.django_db
@pytest.mark.parametrize("user", ["system", "carol"])
def test_a_batch_of_only_unknown_orgunits_is_refused_per_row(county, carol, user):
    sync_catalogue()
    candidates = [
        Candidate("999999999999", "202501", "total_visits", "5", Location(2, "orgunit")),
        Candidate("888888888888", "202501", "tcm_visits", "2", Location(3, "orgunit")),
    ]
    writer = carol if user == "carol" else None
    result = write(candidates, user=writer, channel=Channel.API)
    assert not result.written
    assert [m for _row, _field, m in _messages(result)] == [
        _unknown("999999999999"),
        _unknown("888888888888"),
    ]
    assert [row for row, _field, _m in _messages(result)] == [2, 3]
    assert not DataValue.objects.exists()


@pytest.mark.django_db
def test_a_row_unknown_in_every_code_gets_one_problem(county):
    """The row's first failing code is named (the element), as for any row: one problem a row."""
    sync_catalogue()
    candidates = [Candidate("999999999999", "202501", "no_such_element", "5", Location(2))]
    result = write(candidates, user=None, channel=Channel.API, dry_run=True)
    assert [p.location.row for p in result.errors] == [2]
    assert "no_such_element" in result.errors[0].message
    assert not result.written


@pytest.mark.django_db
def test_a_known_orgunit_beside_an_unknown_one_is_checked_as_usual(county):
    sync_catalogue()
    candidates = [
        Candidate(HMC, "202501", "total_visits", "5", Location(2)),
        Candidate("999999999999", "202501", "total_visits", "5", Location(3)),
    ]
    result = write(candidates, user=None, channel=Channel.API)
    assert [(p.location.row, p.message) for p in result.errors] == [(3, _unknown("999999999999"))]
    assert not DataValue.objects.exists()  # all or nothing

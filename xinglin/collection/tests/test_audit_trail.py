"""Decision 0004: a new value's creation is kept in its own row until its first change, which
writes the creation as an audit entry before the change's own. Nothing is lost: the history
of every value is the same whether or not its creation has been written out yet."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from xinglin.collection import audit
from xinglin.collection.actions import write_rows
from xinglin.collection.models import AuditEntry, Channel, DataValue
from xinglin.collection.tests.conftest import HMC
from xinglin.core import generation
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement

pytestmark = pytest.mark.usefixtures("county", "catalogue")


@pytest.fixture(params=["rows", "staged"])
def write_path(request, monkeypatch):
    """Both ways write_rows writes: statements per call, and (above generation.BULK_ROWS
    rows) through a temporary table."""
    if request.param == "staged":
        monkeypatch.setattr(generation, "BULK_ROWS", 0)
    return request.param


def _rows(value_of):
    elements = [DataElement.objects.get(code=c) for c in ("total_visits", "tcm_visits")]
    unit = OrgUnit.objects.get(code=HMC)
    return [(e, unit, f"2024{m:02d}", float(value_of(e, m))) for m in range(1, 7) for e in elements]


def _facts(entry):
    return (entry.period, entry.element_id, entry.old_value, entry.new_value, entry.user_id,
            entry.channel)  # fmt: skip


def test_a_creation_is_kept_in_the_value_row_and_written_out_at_the_first_change(
    write_path, alice, carol
):
    rows = _rows(lambda e, m: 100 + m)
    write_rows(rows, user=carol, channel=Channel.IMPORT)
    assert AuditEntry.objects.count() == 0  # the twelve creations live in their rows
    created = {(v.element_id, v.period): v.updated_at for v in DataValue.objects.all()}
    before = sorted(map(_facts, audit.trail()), key=repr)
    assert before == sorted(
        ((p, e.pk, None, v, carol.pk, "import") for e, _u, p, v in rows), key=repr
    )

    # Later, alice changes two of them from the web: each one's creation is written first,
    # with carol, the import channel and the creation's own time, then the change.
    later = [(e, u, p, v + 1000 if p == "202403" else v) for e, u, p, v in rows]
    result = write_rows(later, user=alice, channel=Channel.WEB)
    assert (result.added, result.changed, result.unchanged) == (0, 2, 10)
    written = list(AuditEntry.objects.order_by("id"))
    assert [(e.old_value, e.new_value, e.user, e.channel) for e in written] == [
        (None, 103.0, carol, "import"),
        (None, 103.0, carol, "import"),
        (103.0, 1103.0, alice, "web"),
        (103.0, 1103.0, alice, "web"),
    ]
    for entry in written[:2]:
        assert entry.at == created[(entry.element_id, entry.period)]
    assert written[2].at > written[0].at
    after = sorted(map(_facts, audit.trail()), key=repr)
    assert [f for f in after if f[2] is None] == before  # every creation still told
    # A change of all twelve writes the ten creations not yet written, and no second one.
    write_rows([(e, u, p, v + 1) for e, u, p, v in later], user=carol)
    creations = AuditEntry.objects.filter(old_value=None)
    assert sorted(map(_facts, creations), key=repr) == before
    assert AuditEntry.objects.count() == 4 + 10 + 12
    assert sorted(map(_facts, audit.trail()), key=repr) == sorted(
        map(_facts, AuditEntry.objects.all()), key=repr
    )


def test_the_history_page_shows_a_creation_whether_or_not_it_is_written_out(
    client_for, alice, carol
):
    element = DataElement.objects.get(code="total_visits")
    unit = OrgUnit.objects.get(code=HMC)
    write_rows([(element, unit, "202401", 1200.0)], user=carol, channel=Channel.IMPORT)
    url = reverse("collection:history", args=[HMC, "202401", "total_visits"])
    page = client_for(alice).get(url).content.decode()
    assert "carol" in page and "1200" in page and "No changes recorded" not in page

    write_rows([(element, unit, "202401", 1300.0)], user=alice, channel=Channel.WEB)
    entries = audit.history(unit, element, "202401")
    assert [(e.old_value, e.new_value, e.user.username) for e in entries] == [
        (1200.0, 1300.0, "alice"),  # newest first
        (None, 1200.0, "carol"),
    ]
    page = client_for(alice).get(url).content.decode()
    assert page.index("1300") < page.index("carol")


def test_a_value_never_stored_has_no_history(alice):
    element = DataElement.objects.get(code="total_visits")
    assert audit.history(OrgUnit.objects.get(code=HMC), element, "202401") == []


def test_the_creation_time_comes_from_the_row_not_from_the_change(carol):
    element = DataElement.objects.get(code="total_visits")
    unit = OrgUnit.objects.get(code=HMC)
    write_rows([(element, unit, "202401", 1.0)], user=carol)
    long_ago = timezone.now() - timedelta(days=400)
    DataValue.objects.update(updated_at=long_ago)  # as if stored last year
    write_rows([(element, unit, "202401", 2.0)], user=carol)
    creation = AuditEntry.objects.get(old_value=None)
    assert creation.at == long_ago and creation.new_value == 1.0


def test_without_database_constraints_django_still_protects_what_values_point_at(carol):
    """Decision 0005: data values carry no database foreign-key constraints; deleting an org
    unit or element that values point at is still refused, and a deleted user's values keep
    their numbers with no one named."""
    from django.db.models import ProtectedError

    element = DataElement.objects.get(code="total_visits")
    unit = OrgUnit.objects.get(code=HMC)
    write_rows([(element, unit, "202401", 5.0)], user=carol)
    value = DataValue.objects.get(element=element, orgunit=unit, period="202401")
    for target in (unit, element):
        with pytest.raises(ProtectedError) as refused:
            target.delete()
        assert value in set(refused.value.protected_objects)
    carol.delete()
    value.refresh_from_db()
    assert (value.value, value.stored_by) == (5.0, None)

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from xinglin.network.models import OrgUnit
from xinglin.standards.adoption import adopted_pack_codes
from xinglin.standards.loader import all_packs


def test_without_adoption_every_pack_applies(county):
    assert adopted_pack_codes(OrgUnit.objects.get(code="640323100")) == sorted(all_packs())


def test_adopted_packs_apply_beneath_and_show_above(county):
    call_command("packs", "adopt", "rehab-2021-2025", "--orgunit", "640323", "--since", "2021")
    call_command("packs", "adopt", "work-points-2023", "--orgunit", "640323")
    expected = ["rehab-2021-2025", "work-points-2023"]
    assert adopted_pack_codes(OrgUnit.objects.get(code="640323100001")) == expected
    assert adopted_pack_codes(OrgUnit.objects.get(code="6403")) == expected


def test_adopting_an_unknown_pack_exits_2(county):
    with pytest.raises(CommandError) as error:
        call_command("packs", "adopt", "no-such-pack", "--orgunit", "640323")
    assert error.value.returncode == 2
    assert "no-such-pack" in str(error.value)


def test_the_command_is_audited_and_notes_another_places_document(county, capsys):
    from xinglin.standards.models import AdoptionEvent

    call_command("packs", "adopt", "work-points-2023", "--orgunit", "640323")
    assert "note: work-points-2023 is the document of 四川省资阳市雁江区" in capsys.readouterr().out
    event = AdoptionEvent.objects.get()
    assert (event.pack_code, event.change, event.other_place) == (
        "work-points-2023",
        "adopted",
        True,
    )

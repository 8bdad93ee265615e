"""Issue 20.4: password rules everywhere, one's own password page, user management by the
bureau administrator within scope (audited), API tokens that expire and are revoked on a
password reset or a deactivation, listable and revocable by the administrator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from conftest import PASSWORD
from xinglin.api.actions import create_token
from xinglin.api.models import ApiToken
from xinglin.api.tokens import user_for_token
from xinglin.core.models import EventKind, SecurityEvent

STRONG = "Another-Strong-77"


@pytest.mark.parametrize("password", ["123", "password", "short"])
def test_createuser_refuses_a_weak_password(county, password):
    with pytest.raises(CommandError, match="password refused"):
        call_command("createuser", "weak", "--role", "viewer", "--orgunit", "640323",
                     "--password", password)  # fmt: skip
    assert not User.objects.filter(username="weak").exists()


def test_change_password_page(carol, client_for):
    _row, token = create_token(carol, "sync")
    client = client_for(carol)
    assert client.get("/account/password/").status_code == 200
    weak = {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"}
    assert client.post("/account/password/", weak).status_code == 200
    strong = {"old_password": PASSWORD, "new_password1": STRONG, "new_password2": STRONG}
    assert client.post("/account/password/", strong).status_code == 302
    assert user_for_token(token) is None  # tokens revoked
    assert Client().login(username="carol", password=STRONG)
    assert SecurityEvent.objects.filter(kind=EventKind.PASSWORD_CHANGE, username="carol").exists()


def test_the_administrator_sees_the_users_of_their_county_only(alice, bob, carol, dave, victor,
                                                              olga, client_for):  # fmt: skip
    page = client_for(alice).get("/accounts/users/")
    names = {u.username for u in page.context["users"]}
    assert names == {"bob", "carol", "dave"}  # victor works over the city, olga nowhere
    assert client_for(alice).get(f"/accounts/users/{victor.pk}/").status_code == 404


@pytest.mark.parametrize("persona", ["bob", "carol", "victor", "olga"])
def test_only_administrators_manage_users(request, client_for, persona, alice, carol):
    client = client_for(request.getfixturevalue(persona))
    assert client.get("/accounts/users/").status_code == 403
    assert client.get(f"/accounts/users/{carol.pk}/").status_code in (403, 404)
    assert client.get("/accounts/tokens/").status_code == 403
    response = client.post(f"/accounts/users/{carol.pk}/", {"active": "0"})
    assert response.status_code in (403, 404)
    assert User.objects.get(pk=carol.pk).is_active


def test_create_a_user_with_a_role_in_scope(alice, client_for):
    client = client_for(alice)
    form = {"username": "erin", "full_name": "Erin", "password": "123", "role": "institution_clerk",
            "orgunit": "640323100001", "department": ""}  # fmt: skip
    assert client.post("/accounts/users/", form).status_code == 200
    assert not User.objects.filter(username="erin").exists()
    outside = {**form, "password": STRONG, "orgunit": "6403"}
    assert client.post("/accounts/users/", outside).status_code == 200  # not a choice
    assert not User.objects.filter(username="erin").exists()
    assert client.post("/accounts/users/", {**form, "password": STRONG}).status_code == 302
    erin = User.objects.get(username="erin")
    assert erin.memberships.get().orgunit.code == "640323100001"
    assert Client().login(username="erin", password=STRONG)
    event = SecurityEvent.objects.get(kind=EventKind.USER_CHANGE, username="alice")
    assert event.detail.startswith("erin: ")


def test_deactivation_and_reset_revoke_tokens(alice, carol, dave, client_for):
    _r, carol_token = create_token(carol, "a")
    _r, dave_token = create_token(dave, "b")
    client = client_for(alice)
    client.post(f"/accounts/users/{carol.pk}/", {"active": "0"})
    assert not User.objects.get(pk=carol.pk).is_active
    assert user_for_token(carol_token) is None
    assert not Client().login(username="carol", password=PASSWORD)
    assert client.post(f"/accounts/users/{dave.pk}/", {"password": "123"}).status_code == 200
    assert user_for_token(dave_token) is not None  # a refused reset changes nothing
    client.post(f"/accounts/users/{dave.pk}/", {"password": STRONG})
    assert user_for_token(dave_token) is None
    assert Client().login(username="dave", password=STRONG)
    kinds = set(SecurityEvent.objects.filter(username="alice").values_list("kind", flat=True))
    assert {EventKind.USER_CHANGE, EventKind.PASSWORD_CHANGE} <= kinds


def test_change_a_role(alice, bob, client_for):
    form = {"role": "viewer", "orgunit": "640323101", "department": ""}
    assert client_for(alice).post(f"/accounts/users/{bob.pk}/", form).status_code == 302
    membership = bob.memberships.get()
    assert (membership.role, membership.orgunit.code) == ("viewer", "640323101")


def test_tokens_expire(carol, settings):
    row, token = create_token(carol, "old")
    assert user_for_token(token) == carol
    ApiToken.objects.filter(pk=row.pk).update(created_at=row.created_at - timedelta(days=91))
    assert user_for_token(token) is None
    settings.API_TOKEN_DAYS = 120
    assert user_for_token(token) == carol
    response = Client().get("/api/v1/orgunits", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    settings.API_TOKEN_DAYS = 90
    response = Client().get("/api/v1/orgunits", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401


def test_the_administrator_lists_and_revokes_tokens_in_scope(alice, carol, victor, client_for):
    carol_row, carol_token = create_token(carol, "carol-sync")
    victor_row, victor_token = create_token(victor, "victor-sync")
    client = client_for(alice)
    page = client.get("/accounts/tokens/").content.decode()
    assert "carol-sync" in page and "victor-sync" not in page
    assert (
        client.post(f"/accounts/users/{carol.pk}/tokens/{carol_row.pk}/revoke/").status_code == 302
    )
    assert user_for_token(carol_token) is None
    response = client.post(f"/accounts/users/{victor.pk}/tokens/{victor_row.pk}/revoke/")
    assert response.status_code == 404
    response = client.post(f"/accounts/users/{carol.pk}/tokens/{victor_row.pk}/revoke/")
    assert user_for_token(victor_token) == victor

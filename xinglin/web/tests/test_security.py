from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest

from conftest import PASSWORD
from xinglin.web.models import SecurityEvent
from xinglin.web.security import LOCKOUT_FAILURES


def _login(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


def test_a_login_is_recorded(client, bob):
    response = _login(client, "bob", PASSWORD)
    assert response.status_code == 302
    assert list(SecurityEvent.objects.values_list("kind", "username")) == [("login", "bob")]


def test_repeated_failures_lock_the_account_even_with_the_right_password(client, bob):
    for _ in range(LOCKOUT_FAILURES):
        assert _login(client, "bob", "wrong").status_code == 200
    response = _login(client, "bob", PASSWORD)
    assert response.status_code == 200
    assert "登录失败次数过多" in response.text
    assert "_auth_user_id" not in client.session
    kinds = list(SecurityEvent.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["login_failed"] * LOCKOUT_FAILURES + ["locked_out"]


def test_failures_below_the_limit_do_not_lock(client, bob):
    for _ in range(LOCKOUT_FAILURES - 1):
        _login(client, "bob", "wrong")
    assert _login(client, "bob", PASSWORD).status_code == 302


def test_the_lockout_ends_after_the_window(client, bob):
    from datetime import timedelta

    for _ in range(LOCKOUT_FAILURES):
        _login(client, "bob", "wrong")
    SecurityEvent.objects.update(at=SecurityEvent.objects.first().at - timedelta(minutes=16))
    assert _login(client, "bob", PASSWORD).status_code == 302


def test_the_bureau_administrator_reads_the_log_of_their_county(client, client_for, alice, bob):
    _login(client, "bob", "wrong")
    _login(client, "stranger", "wrong")
    text = client_for(alice).get("/security/events/").text
    assert "bob" in text
    assert "stranger" not in text


@pytest.mark.parametrize("persona", ["bob", "carol", "victor", "olga"])
def test_only_bureau_administrators_read_the_log(client_for, request, persona):
    assert client_for(request.getfixturevalue(persona)).get("/security/events/").status_code == 403


def test_production_settings_pass_the_deploy_check(tmp_path):
    env = {
        **os.environ,
        "XINGLIN_SECRET_KEY": secrets.token_urlsafe(60),
        "XINGLIN_HTTPS": "1",
        "XINGLIN_DEBUG": "0",
        "XINGLIN_VAR_DIR": str(tmp_path),
        "XINGLIN_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by browser tests; never in production
    result = subprocess.run(
        [sys.executable, "-m", "xinglin.cli", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_a_bad_boolean_setting_stops_start_up(tmp_path):
    env = {**os.environ, "XINGLIN_DEBUG": "maybe", "XINGLIN_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "xinglin.cli", "check"], capture_output=True, text=True, env=env
    )
    assert result.returncode != 0
    assert "XINGLIN_DEBUG must be a boolean" in result.stderr


def test_a_liaison_is_offered_only_the_pages_they_may_open(client_for, county):
    from xinglin.network.actions import create_user
    from xinglin.network.models import OrgUnit

    liaison = create_user(
        "li",
        PASSWORD,
        role="department_liaison",
        orgunit=OrgUnit.objects.get(code="640323"),
        department="education_sports",
    )
    text = client_for(liaison).get("/").text
    nav = text[text.index('class="mainnav"') : text.index("</nav>")]
    assert "/plans/" in nav
    for hidden in ("/network/", "/evaluation/", "/surveys/", "/care/"):
        assert hidden not in nav
    assert "/plans/departments/640323/education_sports/" in text

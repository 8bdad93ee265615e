from __future__ import annotations

from xinglin.api.models import ApiToken
from xinglin.api.tokens import digest


def test_a_token_is_shown_once_and_stored_hashed(client_for, carol):
    client = client_for(carol)
    response = client.post("/api/tokens/", {"name": "platform sync"})
    assert response.status_code == 200
    token = response.context["created"]
    assert token.startswith("xl_")
    row = ApiToken.objects.get(user=carol)
    assert (row.name, row.digest) == ("platform sync", digest(token))
    assert token not in str(ApiToken.objects.values_list())
    page = client.get("/api/tokens/").content.decode()
    assert token not in page
    assert f"xl_{row.prefix}_" in page


def test_the_token_acts_as_its_user(client, client_for, carol):
    token = client_for(carol).post("/api/tokens/", {"name": "x"}).context["created"]
    client.logout()
    response = client.get("/api/v1/orgunits", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert [u["code"] for u in response.json()["items"]] == ["640323100001"]
    assert ApiToken.objects.get().last_used_at is not None


def test_revoking_stops_the_token(client, client_for, carol):
    web = client_for(carol)
    token = web.post("/api/tokens/", {"name": "x"}).context["created"]
    row = ApiToken.objects.get()
    response = web.post(f"/api/tokens/{row.pk}/revoke/")
    assert response.status_code == 302
    client.logout()
    assert client.get("/api/v1/orgunits", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_nobody_revokes_another_users_token(client_for, carol, bob):
    client_for(carol).post("/api/tokens/", {"name": "x"})
    row = ApiToken.objects.get()
    client_for(bob).post(f"/api/tokens/{row.pk}/revoke/")
    row.refresh_from_db()
    assert row.is_active


def test_the_tokens_page_needs_a_login(client, county):
    response = client.get("/api/tokens/")
    assert response.status_code == 302


def test_a_deactivated_user_token_is_refused(client, carol, bearer):
    headers = bearer(carol)
    carol.is_active = False
    carol.save()
    assert client.get("/api/v1/orgunits", **headers).status_code == 401


def test_openapi_documents_errors_and_auth(client, county):
    schema = client.get("/api/v1/openapi.json").json()
    post = schema["paths"]["/api/v1/values"]["post"]
    assert set(post["responses"]) >= {"200", "401", "403", "404", "422"}
    assert "BearerAuth" in schema["components"]["securitySchemes"] or any(
        s.get("scheme") == "bearer" for s in schema["components"]["securitySchemes"].values()
    )


def test_the_docs_page_uses_the_vendored_swagger_ui(client, county):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/api/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()


def test_org_units_outside_scope_are_404(client, carol, bearer):
    headers = bearer(carol)
    assert client.get("/api/v1/orgunits/640323101001", **headers).status_code == 404
    unit = client.get("/api/v1/orgunits/640323100001", **headers).json()
    assert (unit["code"], unit["parent"], unit["kind"]) == (
        "640323100001",
        "640323100",
        "institution",
    )

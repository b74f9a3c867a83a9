"""WebOS as an OpenID Provider, seen by an independent relying party: authlib's own httpx client
(no WebOS code) does discovery, the authorization code flow with PKCE through the gateway of
the running platform, checks the ID token against the JWKS, calls userinfo, refreshes,
introspects (RFC 7662) and signs out (RP-initiated logout); and the provider refuses what it
must. The person's consent is given as the shell's consent page gives it: auth's consent API
with the person's own token (the browser test of the page is in test_openid_consent_page.py).

The platform's public URL here is http on loopback (what `webos up` sets), so the issuer is
`http://127.0.0.1:<port>/api/auth`; in production it is the https public URL."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet

Platform = Any
CALLBACK = "https://rp.example/callback"
SIGNED_OUT = "https://rp.example/signed-out"
PASSWORD = "rp-person-pass-1234"


def _register(platform: Platform, admin_token: str, *, public: bool = False) -> dict[str, Any]:
    with platform.api(admin_token) as client:
        made = client.post("/api/auth/oauth/clients", json={
            "name": f"Wiki {uuid.uuid4().hex[:4]}", "redirect_uris": [CALLBACK],
            "post_logout_redirect_uris": [SIGNED_OUT], "scopes": ["openid", "profile", "email"],
            "public": public})
    assert made.status_code == 201, made.text
    return dict(made.json())


def _discovery(platform: Platform) -> dict[str, Any]:
    with httpx.Client(timeout=15) as client:
        doc = client.get(f"{platform.url}/api/auth/.well-known/openid-configuration").json()
    return dict(doc)


def _rp(app: dict[str, Any]) -> OAuth2Client:
    return OAuth2Client(app["client_id"], app.get("client_secret"), scope="openid profile email",
                        redirect_uri=CALLBACK, code_challenge_method="S256", timeout=15,
                        token_endpoint_auth_method="none" if app["public"] else "client_secret_basic")


def _consent(platform: Platform, person_token: str, authorize_url: str, *, allow: bool = True) -> dict[str, Any]:
    """The browser follows the app to WebOS; the shell's consent page asks auth and answers."""
    with httpx.Client(timeout=15) as browser:
        landed = browser.get(authorize_url)
    assert landed.status_code == 302, landed.text
    page = urlsplit(landed.headers["location"])
    assert f"{page.scheme}://{page.netloc}{page.path}" == f"{platform.url}/oauth/consent"
    with platform.api(person_token) as shell:
        asked = shell.get(f"/api/auth/oauth/consent?{page.query}")
        assert asked.status_code == 200, asked.text
        answer = shell.post(f"/api/auth/oauth/consent?{page.query}", json={"allow": allow})
    assert answer.status_code == 200, answer.text
    return {**asked.json(), "redirect_to": answer.json()["redirect_to"]}


def _start(rp: OAuth2Client, discovery: dict[str, Any]) -> tuple[str, str, str, str]:
    verifier, nonce = generate_token(48), generate_token(16)
    url, state = rp.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    return url, state, verifier, nonce


@pytest.fixture
def person(platform: Platform) -> dict[str, Any]:
    name, user_id = platform.sign_up(PASSWORD)
    with platform.api() as client:
        session = client.post("/api/auth/login", json={"login": name, "password": PASSWORD}).json()
    return {"name": name, "id": user_id, **session}


def test_a_relying_party_signs_a_person_in_with_webos(platform: Platform, admin_token: str,
                                                      person: dict[str, Any]) -> None:
    discovery = _discovery(platform)
    issuer = f"{platform.url}/api/auth"
    assert discovery["issuer"] == issuer and discovery["code_challenge_methods_supported"] == ["S256"]
    app = _register(platform, admin_token)
    assert app["client_secret"]
    rp = _rp(app)
    url, state, verifier, nonce = _start(rp, discovery)
    consent = _consent(platform, person["access_token"], url)
    assert consent["client"]["name"] == app["name"] and not consent["consented"]
    assert {s["name"] for s in consent["scopes"]} == {"openid", "profile", "email"}
    back = consent["redirect_to"]
    assert back.startswith(CALLBACK) and parse_qs(urlsplit(back).query)["state"] == [state]

    token = rp.fetch_token(discovery["token_endpoint"], authorization_response=back, code_verifier=verifier)
    keys = KeySet.import_key_set(httpx.get(discovery["jwks_uri"], timeout=15).json())
    id_token = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(iss={"essential": True, "value": issuer}, aud={"essential": True, "value": app["client_id"]},
                          nonce={"essential": True, "value": nonce}, sub={"essential": True, "value": person["id"]},
                          ).validate(id_token.claims)
    assert id_token.claims["preferred_username"] == person["name"]

    info = rp.get(discovery["userinfo_endpoint"])
    assert info.status_code == 200 and info.json()["sub"] == person["id"]
    assert info.json()["email"] == f"{person['name']}@example.com"

    first_refresh = token["refresh_token"]
    renewed = rp.refresh_token(discovery["token_endpoint"])
    assert renewed["access_token"] != token["access_token"] and renewed["refresh_token"] != first_refresh

    looked = rp.introspect_token(discovery["introspection_endpoint"], token=renewed["access_token"])
    assert looked.status_code == 200 and looked.json()["active"] is True
    assert looked.json()["sub"] == person["id"] and looked.json()["client_id"] == app["client_id"]

    # the same scopes again: no question (the shell skips the screen)
    again = _consent(platform, person["access_token"], _start(rp, discovery)[0])
    assert again["consented"] is True

    with httpx.Client(timeout=15) as browser:
        out = browser.get(discovery["end_session_endpoint"], params={
            "id_token_hint": token["id_token"], "post_logout_redirect_uri": SIGNED_OUT, "state": "bye"})
    assert out.status_code == 302 and out.headers["location"] == f"{SIGNED_OUT}?state=bye", out.text
    assert rp.introspect_token(discovery["introspection_endpoint"], token=renewed["access_token"]).json() == {
        "active": False}
    with platform.api() as client:  # the WebOS sign-in the person consented from is over too
        assert client.post("/api/auth/refresh", json={"refresh_token": person["refresh_token"]}).status_code == 401


def test_the_provider_refuses_what_it_must(platform: Platform, admin_token: str, person: dict[str, Any]) -> None:
    discovery = _discovery(platform)
    app = _register(platform, admin_token)
    rp = _rp(app)

    # a redirect URI the app did not register: no redirect at all
    url, _, _, _ = _start(rp, discovery)
    with httpx.Client(timeout=15) as browser:
        wrong = browser.get(url.replace("rp.example%2Fcallback", "evil.example%2Fcallback"))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_request"

    # a bad code_verifier, then the same code again (already used up by that attempt)
    url, _, verifier, _ = _start(rp, discovery)
    back = _consent(platform, person["access_token"], url)["redirect_to"]
    with pytest.raises(OAuthError, match="invalid_grant"):
        rp.fetch_token(discovery["token_endpoint"], authorization_response=back, code_verifier=generate_token(48))
    with pytest.raises(OAuthError, match="invalid_grant"):
        rp.fetch_token(discovery["token_endpoint"], authorization_response=back, code_verifier=verifier)

    # a code used twice: refused, and what the first use bought stops working
    url, _, verifier, _ = _start(rp, discovery)
    back = _consent(platform, person["access_token"], url)["redirect_to"]
    bought = rp.fetch_token(discovery["token_endpoint"], authorization_response=back, code_verifier=verifier)
    with pytest.raises(OAuthError, match="invalid_grant"):
        rp.fetch_token(discovery["token_endpoint"], authorization_response=back, code_verifier=verifier)
    assert rp.introspect_token(discovery["introspection_endpoint"], token=bought["access_token"]).json() == {
        "active": False}

    # a refresh token used twice: refused, and the current one (someone else holds a copy) stops too
    url, _, verifier, _ = _start(rp, discovery)
    back = _consent(platform, person["access_token"], url)["redirect_to"]
    spent = rp.fetch_token(discovery["token_endpoint"], authorization_response=back, code_verifier=verifier)
    bought_again = rp.refresh_token(discovery["token_endpoint"])
    with pytest.raises(OAuthError, match="invalid_grant"):
        _rp(app).refresh_token(discovery["token_endpoint"], refresh_token=spent["refresh_token"])
    with pytest.raises(OAuthError, match="invalid_grant"):
        _rp(app).refresh_token(discovery["token_endpoint"], refresh_token=bought_again["refresh_token"])

    # a wrong client secret
    url, _, verifier, _ = _start(rp, discovery)
    back = _consent(platform, person["access_token"], url)["redirect_to"]
    impostor = _rp({**app, "client_secret": "not-the-secret"})
    with pytest.raises(OAuthError, match="invalid_client"):
        impostor.fetch_token(discovery["token_endpoint"], authorization_response=back, code_verifier=verifier)

    # consent revoked by the person: the app's refresh and access tokens stop at once
    url, _, verifier, _ = _start(rp, discovery)
    back = _consent(platform, person["access_token"], url)["redirect_to"]
    held = rp.fetch_token(discovery["token_endpoint"], authorization_response=back, code_verifier=verifier)
    with platform.api(person["access_token"]) as me:
        assert app["client_id"] in {a["client_id"] for a in me.get("/api/auth/me/apps").json()}
        assert me.delete(f"/api/auth/me/apps/{app['client_id']}").status_code == 204
        assert me.get("/api/auth/me/apps").json() == []
    with pytest.raises(OAuthError, match="invalid_grant"):
        rp.refresh_token(discovery["token_endpoint"], refresh_token=held["refresh_token"])
    stale = httpx.get(discovery["userinfo_endpoint"], headers={"Authorization": f"Bearer {held['access_token']}"},
                      timeout=15)
    assert stale.status_code == 401 and stale.json()["error"] == "invalid_token"

    # denied: the app hears access_denied
    url, _, _, _ = _start(rp, discovery)
    denied = _consent(platform, person["access_token"], url, allow=False)["redirect_to"]
    assert parse_qs(urlsplit(denied).query)["error"] == ["access_denied"]


def test_a_public_client_must_use_pkce(platform: Platform, admin_token: str) -> None:
    discovery = _discovery(platform)
    app = _register(platform, admin_token, public=True)
    assert app["client_secret"] is None
    url = OAuth2Client(app["client_id"], scope="openid", redirect_uri=CALLBACK).create_authorization_url(
        discovery["authorization_endpoint"])[0]
    with httpx.Client(timeout=15) as browser:
        refused = browser.get(url)
    assert refused.status_code == 302 and refused.headers["location"].startswith(CALLBACK)
    assert parse_qs(urlsplit(refused.headers["location"]).query)["error"] == ["invalid_request"]

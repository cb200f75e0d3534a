"""Browser-facing hardening: security headers on every HTTP response, the API docs off
by default, and the websocket's Origin check. The app runs in-process with a stub engine
(no model is loaded); the browser-side checks are in test_browser.py."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from server.api.origin import POLICY_VIOLATION, origin_allowed
from server.api.security_headers import content_security_policy
from server.config import Settings
from tests.app_clients import app_clients

HOST = "testserver"  # TestClient's Host header


@pytest.fixture
def make_client(tmp_path):
    with app_clients() as open_client:
        def make(**settings) -> TestClient:
            s = Settings(data_dir=tmp_path, persona_dir=tmp_path, database_url=None, **settings)
            return open_client(s, SimpleNamespace(registry=SimpleNamespace(packs={}, problems=[])))

        yield make


@pytest.fixture
def client(make_client):
    return make_client()


def assert_hardened(response) -> None:
    h = response.headers
    csp = h["content-security-policy"]
    for directive in ("default-src 'self'", "script-src 'self';", "style-src 'self';", "object-src 'none'",
                      "frame-ancestors 'none'", "base-uri 'none'"):
        assert directive in csp, (directive, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert h["x-frame-options"] == "DENY"
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("path", ["/", "/educator", "/api/personas", "/healthz", "/openapi.json", "/api/protocol",
                                  "/static/js/main.js", "/static/css/app.css", "/static/js/worklets/capture.js",
                                  "/api/sessions", "/no-such-page"])
def test_security_headers_on_every_response(client, path):
    r = client.get(path, follow_redirects=False)
    assert r.status_code in (200, 307, 401, 404), r.status_code
    assert_hardened(r)


def test_a_crash_still_answers_500_with_the_headers(client):
    def boom():
        raise RuntimeError("a bug")

    client.app.add_api_route("/boom", boom)
    crashing = TestClient(client.app, raise_server_exceptions=False)
    r = crashing.get("/boom")
    assert r.status_code == 500 and "a bug" not in r.text
    assert_hardened(r)


def test_policy_names_this_servers_websocket_only():
    csp = content_security_policy("example.org:8000")
    assert "connect-src 'self' ws://example.org:8000 wss://example.org:8000;" in csp
    # a Host header that could smuggle in a directive is left out
    assert "connect-src 'self';" in content_security_policy("evil; script-src *")
    assert "connect-src 'self';" in content_security_policy(None)


def test_web_client_has_no_inline_script_or_style(client):
    html = client.get("/").text
    assert "<script>" not in html and "<script nomodule>" not in html and "style=" not in html
    assert 'href="/docs"' not in html


def test_api_docs_off_by_default(client):
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404
    assert "/api/personas" in client.get("/openapi.json").json()["paths"]


def test_api_docs_setting_serves_them_from_this_server_with_their_own_policy(make_client):
    """Their scripts are the packaged copies under /docs/assets; no page names another host
    (tests/test_browser_api_docs.py renders them in Chromium)."""
    client = make_client(api_docs=True)
    for path in ("/docs", "/redoc"):
        r = client.get(path)
        assert r.status_code == 200 and "/openapi.json" in r.text and "/docs/assets/" in r.text
        assert "https://" not in r.text, "a docs page loads something from another host"
        csp = r.headers["content-security-policy"]
        script_src = csp.split("script-src", 1)[1].split(";", 1)[0]
        assert "https:" not in csp and "'unsafe-inline'" not in script_src and "frame-ancestors 'none'" in csp
        assert r.headers["x-frame-options"] == "DENY"
    assert "'sha256-" in client.get("/docs").headers["content-security-policy"]  # Swagger's inline start-up script
    for asset in ("swagger-ui-bundle.js", "redoc.standalone.js", "swagger-ui.css"):
        r = client.get(f"/docs/assets/{asset}")
        assert r.status_code == 200 and len(r.content) > 10_000
        assert r.headers["content-type"].startswith(("text/javascript", "application/javascript", "text/css"))
        assert_hardened(r)


def test_api_docs_without_the_packaged_scripts_explain_themselves(make_client, monkeypatch):
    from server.api import docs_pages

    monkeypatch.setattr(docs_pages, "packaged_assets", lambda: None)
    client = make_client(api_docs=True)
    for path in ("/docs", "/redoc"):
        r = client.get(path)
        assert r.status_code == 503 and "pip install fastapi-offline" in r.text and 'href="/openapi.json"' in r.text
        assert "<script" not in r.text
        assert_hardened(r)
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 404


# -- websocket Origin ----------------------------------------------------------------------------

def refused(client, headers: dict) -> WebSocketDisconnect:
    with pytest.raises(WebSocketDisconnect) as exc:
        with client.websocket_connect("/ws/session", headers=headers):
            pass
    assert exc.value.code == POLICY_VIOLATION and "ws_allowed_origins" in exc.value.reason
    return exc.value


def accepted(client, headers: dict) -> None:
    with client.websocket_connect("/ws/session", headers=headers) as ws:
        ws.send_text("not json")
        assert json.loads(ws.receive_text())["type"] == "error"  # a live socket answers


@pytest.mark.parametrize("origin", ["https://evil.example", "http://testserver.evil.example", "null",
                                    "http://testserver:8001", "file://"])
def test_websocket_from_a_foreign_origin_is_refused(client, origin):
    refused(client, {"origin": origin})


@pytest.mark.parametrize("headers", [{}, {"origin": f"http://{HOST}"}, {"origin": f"https://{HOST.upper()}"}])
def test_websocket_from_this_origin_or_no_page_is_accepted(client, headers):
    accepted(client, headers)


def test_allowed_origins_setting(make_client):
    client = make_client(ws_allowed_origins=["https://bedside.example.org/"])
    accepted(client, {"origin": "https://bedside.example.org"})
    refused(client, {"origin": "https://other.example.org"})
    accepted(make_client(ws_allowed_origins=["*"]), {"origin": "https://other.example.org"})


def test_origin_rules():
    assert origin_allowed(None, "a:8000")
    assert origin_allowed("http://a:8000", "a:8000")
    assert origin_allowed("http://a", "a:80") and origin_allowed("https://a:443", "a")
    assert not origin_allowed("http://a:8000", "a:8001")
    assert not origin_allowed("http://a:8000", None)
    assert not origin_allowed("ftp://a:8000", "a:8000")
    assert not origin_allowed("http://a:8000@b", "a:8000")

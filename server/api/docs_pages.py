"""/docs and /redoc, served only when the `api_docs` setting is on.

FastAPI's stock pages load Swagger UI and ReDoc from a public CDN: scripts that would run on
the origin whose sessionStorage holds the educator token, and a blank page on a hospital
network without internet. So the scripts come from a package instead (fastapi-offline ships
Swagger UI and ReDoc builds), served by this server under /docs/assets, and each page's
policy allows this origin and the hash of its one inline start-up script, nothing else.
ReDoc's sidebar asks for the Redocly logo from its CDN: the policy blocks it (nothing is
fetched) and the image hides itself. Without the package both pages say so, and point to
/openapi.json, rather than stay blank.
"""

from __future__ import annotations

import base64
import hashlib
import html
import importlib.resources
import logging
import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

log = logging.getLogger(__name__)

ASSETS_PACKAGE = "fastapi_offline"
ASSETS_URL = "/docs/assets"
ASSET_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def packaged_assets() -> Path | None:
    """The folder holding the Swagger UI and ReDoc builds, or None when the package (or a file
    in it) is missing."""
    try:
        folder = Path(str(importlib.resources.files(ASSETS_PACKAGE) / "static"))
    except ModuleNotFoundError:
        return None
    return folder if all((folder / name).is_file() for name in ASSET_FILES) else None


def docs_policy(page: str) -> str:
    """Scripts from this origin and the page's own inline start-up script (by hash). ReDoc
    writes its styles at run time, so styles may be inline; images may be data: URLs."""
    hashes = "".join(" 'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
                     for body in _INLINE_SCRIPT.findall(page))
    return (f"default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
            "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def _with_policy(page: HTMLResponse) -> HTMLResponse:
    body = page.body.decode()
    return HTMLResponse(body, headers={"Content-Security-Policy": docs_policy(body)})


def missing_assets_page(openapi_url: str, name: str) -> HTMLResponse:
    """What /docs and /redoc answer without the packaged scripts: why, the fix, and the schema.
    No script; the server's default policy applies."""
    schema = html.escape(openapi_url)
    body = (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>API docs unavailable</title></head><body><main id=\"api-docs-unavailable\">"
        f"<h1>{html.escape(name)} is not installed on this server</h1>"
        f"<p>The API docs pages run Swagger UI and ReDoc from this server, never from a CDN. Their "
        f"scripts come from the Python package <code>{ASSETS_PACKAGE.replace('_', '-')}</code>, which is "
        "missing here. Install it into the server's environment "
        "(<code>pip install fastapi-offline</code>; <code>make run</code> installs it) and restart.</p>"
        f"<p>The OpenAPI schema is always served: <a href=\"{schema}\">{schema}</a>.</p>"
        "</main></body></html>")
    return HTMLResponse(body, status_code=503)


def add_docs_pages(app: FastAPI) -> None:
    """Swagger UI at /docs and ReDoc at /redoc, both reading app.openapi_url."""
    assets = packaged_assets()
    if assets is None:
        log.warning("BEDSIDE_API_DOCS is on but the %s package is not installed: /docs and /redoc explain this, "
                    "and /openapi.json is served", ASSETS_PACKAGE)
    else:
        app.mount(ASSETS_URL, StaticFiles(directory=assets), name="api-docs-assets")

    def page(path: str, name: str, render) -> None:
        """One docs page: the packaged tool under this server's policy, or why it is missing."""
        async def serve() -> HTMLResponse:
            if assets is None:
                return missing_assets_page(app.openapi_url, name)
            return _with_policy(render())
        app.add_api_route(path, serve, methods=["GET"], include_in_schema=False, response_class=HTMLResponse)

    # validatorUrl None: Swagger UI would otherwise fetch a badge from validator.swagger.io
    page("/docs", "Swagger UI", lambda: get_swagger_ui_html(
        openapi_url=app.openapi_url, title=f"{app.title} API", swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css", swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        swagger_ui_parameters={"validatorUrl": None}))
    page("/redoc", "ReDoc", lambda: get_redoc_html(
        openapi_url=app.openapi_url, title=f"{app.title} API", redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{ASSETS_URL}/favicon.png", with_google_fonts=False))

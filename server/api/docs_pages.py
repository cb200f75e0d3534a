"""/docs and /redoc, served only when the `api_docs` setting is on.

They are FastAPI's stock pages, which load Swagger UI and ReDoc from a public CDN: scripts
that would run on the origin whose sessionStorage holds the educator token. So they are
off by default (/openapi.json is always served), and when an operator turns them on each
page gets its own policy naming the CDN and the hash of its one inline script.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

CDN = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def docs_policy(html: str) -> str:
    hashes = " ".join("'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
                      for body in _INLINE_SCRIPT.findall(html))
    return (f"default-src 'self'; script-src 'self' {CDN} {hashes}".rstrip() + "; "
            f"style-src 'self' 'unsafe-inline' {CDN} https://fonts.googleapis.com; font-src https://fonts.gstatic.com; "
            "img-src 'self' data: https:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def _page(page: HTMLResponse) -> HTMLResponse:
    html = page.body.decode()
    return HTMLResponse(html, headers={"Content-Security-Policy": docs_policy(html)})


def add_docs_pages(app: FastAPI) -> None:
    """Swagger UI at /docs and ReDoc at /redoc, both reading app.openapi_url."""

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _page(get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} API"))

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return _page(get_redoc_html(openapi_url=app.openapi_url, title=f"{app.title} API"))

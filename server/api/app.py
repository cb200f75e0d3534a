"""`create_app`: the FastAPI application (HTTP API, websocket, static web client)."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import make_url

from .. import __version__
from ..config import Settings, shipped
from ..engine.care_rule import apply_care_rule
from ..engine.patient import Engine
from ..engine.summary import SessionSummary
from ..store.base import SessionStore
from ..store.records import SessionFilter
from ..store.sql import open_store
from ..store.tokens import token_matches
from .auth import is_educator, key_reads, require_educator, session_reader
from .cases import add_case_editor
from .docs_pages import add_docs_pages
from .educator import ensure_educator_token
from .learner_keys import router as learner_keys_router
from .plugins import plugin_routers
from .protocol import protocol_schema
from .readiness import ReadinessProbe
from .schemas import (ErrorBody, Health, PersonaInfo, PersonaList, Readiness, RefusedPack, SessionDetail, SessionInfo,
                      TurnInfo)
from .security_headers import SecurityHeaders
from .services import Services
from .ws import router as ws_router

WEB_CLIENT = shipped("web_client")

_AUTH_ERRORS = {401: {"model": ErrorBody, "description": "No bearer token"},
                403: {"model": ErrorBody, "description": "Token not allowed here"}}


def create_app(settings: Settings, engine: Engine | None = None, store: SessionStore | None = None,
               educator_token: str | None = None, web_dir: Path = WEB_CLIENT,
               routers: list[APIRouter] | None = None) -> FastAPI:
    """Build the app. Missing pieces are made from settings (the engine is built and warmed);
    `routers` default to those installed packages add (api/plugins.py: the educator's cohort report)."""
    if engine is None:
        from ..engine.factory import build_engine
        engine = build_engine(settings)
        engine.warm()
    owns_store = store is None
    store = store or open_store(settings.resolved_database_url())
    token = educator_token or ensure_educator_token(settings)[0]
    services = Services(settings=settings, engine=engine, store=store, educator_token=token)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        async with services.leases.kept():  # session leases: the heartbeat, and their release at shutdown
            yield
        if owns_store:
            store.close()

    app = FastAPI(title="Bedside", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="A standardized patient for practising clinical empathy. The live conversation runs "
                              "over the websocket /ws/session (see docs/protocol.md and GET /api/protocol).")
    app.state.services = services
    app.add_middleware(SecurityHeaders)
    app.include_router(ws_router)
    add_case_editor(app, services)
    app.include_router(learner_keys_router)
    if settings.api_docs:
        add_docs_pages(app)

    @app.get("/healthz", response_model=Health, tags=["server"])
    async def healthz() -> Health:
        refused = len({p.file for p in engine.registry.problems})
        return Health(version=__version__, personas=len(engine.registry.packs), refused=refused,
                      database=make_url(settings.resolved_database_url()).get_backend_name())

    # --- readiness (/readyz): models loaded and database reachable; the checks are in api/readiness.py ---
    readiness = ReadinessProbe(services)

    @app.get("/readyz", response_model=Readiness, tags=["server"],
             responses={503: {"model": Readiness, "description": "Not ready: `not_ready` names the failed checks"}})
    async def readyz(response: Response) -> Readiness:
        """Readiness for a load balancer: 200 when the configured models are loaded and the database
        answers, else 503 naming what is not ready and how to fix it. /healthz is the liveness probe."""
        result = await readiness.check()
        if result.status != "ready":
            response.status_code = 503
        return result
    # --- end readiness ---

    @app.get("/api/personas", response_model=PersonaList, tags=["personas"])
    async def personas() -> PersonaList:
        """Loaded personas, and the packs refused at start-up with their validation messages."""
        packs = sorted(engine.registry.packs.values(), key=lambda p: p.id)
        return PersonaList(personas=[PersonaInfo.of(p) for p in packs],
                           refused=RefusedPack.group(engine.registry.problems))

    @app.get("/api/protocol", tags=["server"])
    async def protocol() -> dict:
        """JSON Schema of every websocket message, both directions."""
        return protocol_schema()

    @app.get("/api/sessions", response_model=list[SessionInfo], responses=_AUTH_ERRORS, tags=["sessions"],
             dependencies=[Depends(require_educator)])
    async def list_sessions(learner_id: str | None = None, persona_id: str | None = None,
                            since: datetime | None = Query(None, description="ISO 8601; sessions started at or after"),
                            until: datetime | None = Query(None, description="ISO 8601; sessions started at or before"),
                            ) -> list[SessionInfo]:
        """Every stored session, oldest first (educator token only)."""
        filters = SessionFilter(learner_id=learner_id, persona_id=persona_id, since=since, until=until)
        rows = await asyncio.to_thread(store.list_sessions, filters)
        return [SessionInfo.of(s, settings.abandon_after) for s in rows]

    @app.get("/api/sessions/{session_id}", response_model=SessionDetail, tags=["sessions"],
             responses={**_AUTH_ERRORS, 404: {"model": ErrorBody, "description": "No such session"}})
    async def session_detail(session_id: str, request: Request,
                             creds: HTTPAuthorizationCredentials | None = Depends(session_reader)) -> SessionDetail:
        """A session with its turns and summary: the educator token, that session's own learner token,
        or the personal key of the learner who started it."""
        record = await asyncio.to_thread(store.get_session, session_id)
        if is_educator(request, creds):
            if record is None:
                raise HTTPException(404, f"no session '{session_id}'")
        elif record is None or not (token_matches(creds.credentials, record.token_hash)
                                    or await asyncio.to_thread(key_reads, request, creds, record)):
            raise HTTPException(403, "this token may not read this session; use its learner token, the personal key "
                                "of the learner who started it, or the educator token")
        turns = await asyncio.to_thread(store.turns, session_id)
        pack = engine.registry.packs.get(record.persona_id)
        items = {c.id: c.item for c in pack.checklist} if pack is not None and record.summary else {}
        return SessionDetail(session=SessionInfo.of(record, settings.abandon_after), opening=record.opening,
                             turns=[TurnInfo.of(t) for t in turns], checklist_items=items,
                             # sessions stored before the CARE evidence rule get it on the way out
                             summary=apply_care_rule(SessionSummary.model_validate(record.summary)) if record.summary else None)

    @app.get("/", include_in_schema=False)
    async def index():
        page = Path(web_dir) / "index.html"
        if page.exists():
            return FileResponse(page)
        return HTMLResponse("<!doctype html><title>Bedside</title><p>Bedside server is running. "
                            "The browser client is not installed; the API is described at /openapi.json.</p>")

    @app.get("/educator", include_in_schema=False)
    async def educator_page():
        """A memorable address for the educator view of the browser client."""
        return RedirectResponse("/#/educator")

    for router in plugin_routers() if routers is None else routers:
        app.include_router(router)

    @app.get("/educator/cases", include_in_schema=False)
    async def case_editor_page():
        """The case editor of the browser client (educator token)."""
        return RedirectResponse("/#/educator/cases")

    if Path(web_dir).is_dir():
        app.mount("/static", StaticFiles(directory=web_dir), name="static")
    return app

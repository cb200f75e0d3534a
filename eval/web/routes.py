"""Educator-only routes: the cohort report as JSON, and the CSV, xAPI and JSONL downloads.

They run the same code as `bedside eval cohort|csv|xapi` and `bedside session export`, on the
server's own store and persona packs, with the session list's filters (case, learner, dates)
and its rule for abandoned sessions. Handlers are plain functions, so FastAPI runs them in its
thread pool and a large cohort never stalls the event loop.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse

from server.api.auth import require_educator
from server.api.schemas import ErrorBody
from server.api.services import Services
from server.store.export import export_lines
from server.store.sql import utc

from ..export.csv_tables import SESSION_COLUMNS, TURN_COLUMNS, csv_text, session_rows, turn_rows
from ..export.xapi import XapiConfig, checked_statements
from ..load.status import with_read_status
from ..load.store import iter_store, matching_records
from ..metrics.cohort import cohort_metrics
from ..metrics.session import SessionMetrics, session_metrics
from ..packs import Packs
from .models import CohortFilters, CohortReport, CohortSession

_ERRORS = {401: {"model": ErrorBody, "description": "No bearer token"},
           403: {"model": ErrorBody, "description": "Token not allowed here"},
           422: {"description": "A filter could not be read (the detail names it)"}}

router = APIRouter(tags=["educator"], dependencies=[Depends(require_educator)], responses=_ERRORS)


def cohort_filters(
    persona_id: list[str] = Query([], description="Only these cases (repeatable); none: every case."),
    learner_id: list[str] = Query([], description="Only these learners, exact ids (repeatable); none: every learner."),
    since: datetime | None = Query(None, description="ISO 8601; sessions started at or after (no zone: UTC)."),
    until: datetime | None = Query(None, description="ISO 8601; sessions started at or before (no zone: UTC)."),
) -> CohortFilters:
    since, until = utc(since), utc(until)
    if since and until and since > until:
        raise HTTPException(422, f"since ({since.isoformat()}) is after until ({until.isoformat()}): swap them")
    return CohortFilters(persona_id=persona_id, learner_id=learner_id, since=since, until=until)


def _services(request: Request) -> Services:
    return request.app.state.services


def _metrics(services: Services, f: CohortFilters) -> list[SessionMetrics]:
    """The matching sessions' metrics, oldest first, each with its status as read now."""
    records = matching_records(services.store, f.eval_filter())
    sessions = with_read_status(list(iter_store(services.store, records)), services.settings.abandon_after)
    packs = Packs(registry=services.engine.registry)
    return [session_metrics(s, packs) for s in sessions]


def _attachment(body: str | Iterator[str], media_type: str, stem: str, ext: str) -> Response:
    name = f"bedside-{stem}-{datetime.now(UTC):%Y%m%d-%H%M%S}.{ext}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    if isinstance(body, str):
        return Response(body, media_type=media_type, headers=headers)
    return StreamingResponse(body, media_type=media_type, headers=headers)


@router.get("/api/cohort", response_model=CohortReport)
def cohort(request: Request, f: CohortFilters = Depends(cohort_filters)) -> CohortReport:
    """The cohort report (`bedside eval cohort`) of the matching sessions, as JSON: per learner, per case,
    hardest case first, progress; abandoned sessions are counted apart from completed ones."""
    services = _services(request)
    ms = _metrics(services, f)
    return CohortReport(filters=f, abandon_after_min=services.settings.abandon_after_min, cohort=cohort_metrics(ms),
                        sessions=[CohortSession.of(m) for m in ms])


@router.get("/api/export/csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "A CSV file (columns: docs/evaluation.md)"}})
def export_csv(request: Request, f: CohortFilters = Depends(cohort_filters),
               table: Literal["sessions", "turns"] = Query("sessions", description="One row per session, or per learner turn.")
               ) -> Response:
    """`bedside eval csv`'s sessions.csv or turns.csv for the matching sessions."""
    ms = _metrics(_services(request), f)
    body = (csv_text(SESSION_COLUMNS, session_rows(ms)) if table == "sessions" else csv_text(TURN_COLUMNS, turn_rows(ms)))
    return _attachment(body, "text/csv; charset=utf-8", table, "csv")


@router.get("/api/export/xapi", response_class=Response,
            responses={200: {"content": {"application/json": {}}, "description": "A JSON array of xAPI 1.0.3 statements"}})
def export_xapi(request: Request, f: CohortFilters = Depends(cohort_filters),
                xapi_base: str = Query(XapiConfig().base, description="IRI base for activities and extensions."),
                xapi_home_page: str = Query(XapiConfig().home_page, description="Account homePage of the learner ids.")
                ) -> Response:
    """`bedside eval xapi`: one statement per session and per graded turn, checked before they are sent."""
    ms = _metrics(_services(request), f)
    try:
        out = checked_statements(ms, XapiConfig(base=xapi_base, home_page=xapi_home_page))
    except ValueError as exc:  # e.g. a base that is not an IRI
        raise HTTPException(422, f"{exc}; check xapi_base and xapi_home_page") from None
    return _attachment(json.dumps(out, indent=1, ensure_ascii=False), "application/json", "xapi", "json")


@router.get("/api/export/jsonl", response_class=StreamingResponse,
            responses={200: {"content": {"application/x-ndjson": {}}, "description": "One JSON object per turn (docs/export.md)"}})
def export_jsonl(request: Request, f: CohortFilters = Depends(cohort_filters)) -> StreamingResponse:
    """`bedside session export --format jsonl` for the matching sessions, streamed."""
    services = _services(request)
    records = matching_records(services.store, f.eval_filter())
    lines = export_lines(services.store, records, services.settings.abandon_after)
    return _attachment((json.dumps(line, ensure_ascii=False) + "\n" for line in lines), "application/x-ndjson",
                       "turns", "jsonl")

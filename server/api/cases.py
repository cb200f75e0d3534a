"""The case editor's HTTP API: read, check, try and save persona packs (educator token only).

Checks and tries run off the event loop (asyncio.to_thread); the full check (a simulated
learner through the real engine, the coverage bank) takes seconds, so only one runs at a time
and live sessions keep the CPU. Try-it conversations use an in-memory engine for the draft
on the running engine's models and are never stored (the client holds their state).
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path as PathParam, Request
from fastapi.responses import JSONResponse

from ..engine.drafts import DraftEngines
from ..engine.pack_report import pack_report
from ..persona.case_files import CaseFileError, CaseFiles
from ..persona.draft_check import DraftCheck, check_draft
from ..persona.loader import ID_PATTERN, PACK_FILE, MAX_PACK_BYTES, PackError
from ..persona.schema import PersonaPack
from ..persona.yaml_merge import render_yaml
from .auth import require_educator
from .case_schemas import (KEYS, REFERENCES, CaseList, CaseProblem, CaseRefused, CaseSummary, CaseText, CheckRequest,
                           CheckResult, FullReport, Saved, SaveRequest, SchemaInfo, TryReply, TryRequest, VersionInfo,
                           VersionList)
from .schemas import ErrorBody
from .services import Services

TEMPLATE = Path(__file__).resolve().parent.parent / "persona" / "template.yaml"
MAX_BODY = 3 * MAX_PACK_BYTES  # a save carries the draft and the text it was edited from

RESERVED = ("schema", "template", "check", "try")  # the editor's own routes under /api/cases

CaseId = PathParam(pattern=ID_PATTERN, description="A case id: lower-case letters, digits, '-' or '_'.")


class CaseEditor:
    """The editor's long-lived parts: the files, the draft engines, one full check at a time."""

    def __init__(self, services: Services):
        self.services = services
        self.files = CaseFiles(services.settings.persona_dir)
        self.drafts = DraftEngines(services.engine)
        self.full_checks = asyncio.Semaphore(1)
        self.save_lock = threading.Lock()


def _editor(request: Request) -> CaseEditor:
    return request.app.state.case_editor


def _small_body(request: Request) -> None:
    size = request.headers.get("content-length")
    if size and size.isdigit() and int(size) > MAX_BODY:
        raise HTTPException(413, f"the request is {int(size):,} bytes; a case may be at most {MAX_PACK_BYTES:,}")


router = APIRouter(prefix="/api/cases", tags=["case editor"], dependencies=[Depends(require_educator), Depends(_small_body)],
                   responses={401: {"model": ErrorBody, "description": "No bearer token"},
                              403: {"model": ErrorBody, "description": "Not the educator token"}})


def _refused(detail: str, check: DraftCheck) -> JSONResponse:
    body = CaseRefused(detail=detail, problems=[CaseProblem.of(p, check.from_yaml) for p in check.problems])
    return JSONResponse(body.model_dump(), status_code=422)


def _file_error(exc: CaseFileError) -> HTTPException:
    return HTTPException(exc.status, str(exc))


@router.get("/schema", response_model=SchemaInfo, response_model_by_alias=True)
async def schema() -> SchemaInfo:
    """The pack's JSON Schema (the form is built from it) and which fields name other ids."""
    return SchemaInfo(schema=PersonaPack.model_json_schema(), references=REFERENCES, keys=KEYS)


@router.get("", response_model=CaseList)
async def list_cases(request: Request) -> CaseList:
    """Every case in the persona directory, with its version and how many earlier ones are kept."""
    ed = _editor(request)
    registry = ed.services.engine.registry

    def gather() -> CaseList:
        cases = [CaseSummary(id=p.id, title=p.title, pack_version=registry.version(p.id), versions=len(ed.files.versions(p.id)))
                 for p in sorted(registry.packs.values(), key=lambda p: p.id)]
        refused = sorted({Path(p.file).parent.name for p in registry.problems if Path(p.file).name == PACK_FILE})
        return CaseList(cases=cases, refused=[r for r in refused if r not in registry.packs])
    return await asyncio.to_thread(gather)


@router.get("/template", response_model=CaseText)
async def template() -> CaseText:
    """A blank case: the commented template every field is explained in."""
    text = TEMPLATE.read_text(encoding="utf-8").replace("__ID__", "new-case")
    check = check_draft(yaml=text)
    return CaseText(id="new-case", yaml=text, data=check.data, pack_version=None)


@router.post("/check", response_model=CheckResult)
async def check(body: CheckRequest, request: Request) -> CheckResult:
    """The draft's schema and reference problems with their paths (milliseconds); with
    `full`, also the checker's report on a valid draft (seconds)."""
    result = await asyncio.to_thread(check_draft, data=body.data, yaml=body.yaml)
    report = None
    if body.full and result.pack is not None:
        ed = _editor(request)
        async with ed.full_checks:
            engine = await asyncio.to_thread(ed.drafts.get, result.pack)
            report = FullReport.of(await asyncio.to_thread(pack_report, engine, result.pack.id))
    return CheckResult(ok=not result.problems and not (report and report.errors),
                       problems=[CaseProblem.of(p, result.from_yaml) for p in result.problems],
                       data=result.data if body.yaml is not None else None, report=report)


@router.post("/try", response_model=TryReply, responses={422: {"model": CaseRefused, "description": "The draft is not valid"}})
async def try_turn(body: TryRequest, request: Request):
    """One turn of a conversation with the draft (no state: the opening). Nothing is stored."""
    result = await asyncio.to_thread(check_draft, data=body.data, yaml=body.yaml)
    if result.pack is None:
        return _refused("fix the problems in the case before trying it", result)
    engine = await asyncio.to_thread(_editor(request).drafts.get, result.pack)
    version = engine.registry.version(result.pack.id)
    if body.state is None:
        state, opening = await asyncio.to_thread(engine.start, result.pack.id)
        return TryReply(state=state, reply=opening, opening=True, feeling=state.emotional, pack_version=version)
    if body.state.persona_id != result.pack.id:
        raise HTTPException(409, "this conversation is with another case; start the chat again")
    if not (body.text or "").strip():
        raise HTTPException(422, "type what the learner says in 'text'")
    try:
        turn, state = await asyncio.to_thread(engine.respond, body.state, body.text.strip())
    except (KeyError, StopIteration, ValueError) as exc:  # a state from another draft names ids this one lacks
        raise HTTPException(409, f"the conversation no longer fits the case ({exc}); start the chat again") from None
    return TryReply(state=state, reply=turn.reply, opening=False, act=turn.act.value, grade=turn.grade,
                    disclosed=turn.disclosed, feeling=state.emotional, pack_version=version)


@router.get("/{case_id}", response_model=CaseText, responses={404: {"model": ErrorBody}})
async def read_case(request: Request, case_id: str = CaseId) -> CaseText:
    """A case's file as text and as data; a file that does not load is returned too, to be fixed."""
    ed = _editor(request)
    try:
        text = await asyncio.to_thread(ed.files.read, case_id)
    except CaseFileError as exc:
        raise _file_error(exc) from None
    parsed = await asyncio.to_thread(check_draft, yaml=text)
    return CaseText(id=case_id, yaml=text, data=parsed.data, pack_version=ed.files.current_version(case_id))


@router.put("/{case_id}", response_model=Saved,
            responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody, "description": "Id taken, or the file changed"},
                       422: {"model": CaseRefused, "description": "The draft is not valid: nothing was written"}})
async def save_case(body: SaveRequest, request: Request, case_id: str = CaseId):
    """Validate and write the case (the form's data merged into `base_yaml`, keeping its
    comments; or the YAML as sent), keep the old file in the history, reload the pack."""
    ed = _editor(request)
    if case_id in RESERVED:
        raise HTTPException(422, f"'{case_id}' is a name the editor's API uses; choose another id")
    if body.yaml is not None:
        text = body.yaml
    else:
        try:
            text = await asyncio.to_thread(render_yaml, body.data, body.base_yaml)
        except PackError as exc:
            return _refused("base_yaml is not valid YAML; send the draft without it", DraftCheck(problems=exc.problems))
    result = await asyncio.to_thread(check_draft, yaml=text, case_id=case_id)
    if result.pack is None:
        if body.yaml is None:
            result.from_yaml = False  # the author edited data: lines of generated text would mislead
        return _refused("the case was not saved: fix these problems first", result)
    return await asyncio.to_thread(_write, ed, case_id, text, body.expected_version, body.create)


def _write(ed: CaseEditor, case_id: str, text: str, expected: str | None, create: bool) -> Saved:
    with ed.save_lock:
        try:
            version = ed.files.save(case_id, text, expected_version=expected, create=create)
        except CaseFileError as exc:
            raise _file_error(exc) from None
        ed.services.engine.registry.reload_pack(case_id)
    return Saved(pack_version=version, **_versions(ed, case_id).model_dump())


def _versions(ed: CaseEditor, case_id: str) -> VersionList:
    return VersionList(id=case_id, current=ed.files.current_version(case_id),
                       versions=[VersionInfo(**v.__dict__) for v in ed.files.versions(case_id)])


@router.get("/{case_id}/versions", response_model=VersionList)
async def versions(request: Request, case_id: str = CaseId) -> VersionList:
    """The case's earlier versions, newest first (each save keeps the file it replaced)."""
    return await asyncio.to_thread(_versions, _editor(request), case_id)


@router.get("/{case_id}/versions/{version_id}", response_model=CaseText, responses={404: {"model": ErrorBody}})
async def read_version(request: Request, version_id: str, case_id: str = CaseId) -> CaseText:
    ed = _editor(request)
    try:
        text = await asyncio.to_thread(ed.files.read_version, case_id, version_id)
    except CaseFileError as exc:
        raise _file_error(exc) from None
    parsed = await asyncio.to_thread(check_draft, yaml=text)
    return CaseText(id=case_id, yaml=text, data=parsed.data, pack_version=ed.files.current_version(case_id))


@router.post("/{case_id}/versions/{version_id}/restore", response_model=Saved,
             responses={404: {"model": ErrorBody}, 422: {"model": CaseRefused, "description": "That version no longer validates"}})
async def restore_version(request: Request, version_id: str, case_id: str = CaseId):
    """Make an earlier version current again (the current file goes into the history first)."""
    ed = _editor(request)
    try:
        text = await asyncio.to_thread(ed.files.read_version, case_id, version_id)
    except CaseFileError as exc:
        raise _file_error(exc) from None
    result = await asyncio.to_thread(check_draft, yaml=text, case_id=case_id)
    if result.pack is None:
        return _refused("that version does not pass today's checks; open it, fix it and save it instead", result)
    return await asyncio.to_thread(_write, ed, case_id, text, None, False)


def add_case_editor(app: FastAPI, services: Services) -> None:
    app.state.case_editor = CaseEditor(services)
    app.include_router(router)

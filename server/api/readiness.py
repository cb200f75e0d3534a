"""GET /readyz: whether this process can serve a learner now, for a load balancer or Kubernetes.

/healthz answers as long as the process is up (liveness: restart me if it stops). Readiness is
narrower: the models the configured backends need are loaded, and the database answers. A replica
that is not ready keeps running and is only taken out of the pool until it is.

The model checks read what start-up loaded and never load anything themselves (a probe must be
cheap). Remote engines are not called: the realiser and the judge fall back per turn, ASR asks the
learner to say it again, TTS shows the words unspoken; probing them here would take every replica
out of the pool whenever one GPU host blinks. The database is asked `SELECT 1` in a thread with a
short time limit, and only one such question is ever in flight: a database that hangs does not
pile up a thread per probe.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading

from .schemas import Readiness, ReadinessCheck
from .services import Services

log = logging.getLogger(__name__)

DB_TIMEOUT_S = 2.0


def _ok(name: str, detail: str) -> ReadinessCheck:
    return ReadinessCheck(name=name, ready=True, detail=detail)


def _not(name: str, detail: str, fix: str) -> ReadinessCheck:
    return ReadinessCheck(name=name, ready=False, detail=detail, fix=fix)


class ReadinessProbe:
    """One per app: remembers the database question in flight and the last verdict (to log changes)."""

    def __init__(self, services: Services, db_timeout_s: float | None = None):
        self.services = services
        self.db_timeout_s = DB_TIMEOUT_S if db_timeout_s is None else db_timeout_s
        self._ping: concurrent.futures.Future | None = None  # the database question in flight
        self._last_failed: list[str] | None = None

    async def check(self) -> Readiness:
        checks = [await self._database(), *model_checks(self.services), _draining(self.services)]
        failed = [c.name for c in checks if not c.ready]
        if failed != self._last_failed:  # the log says when and why a replica left or rejoined the pool
            if failed:
                log.warning("not ready: %s", "; ".join(f"{c.name}: {c.detail}" for c in checks if not c.ready))
            elif self._last_failed:
                log.info("ready again")
            self._last_failed = failed
        return Readiness(status="not_ready" if failed else "ready", not_ready=failed, checks=checks)

    async def _database(self) -> ReadinessCheck:
        store = self.services.store
        engine = getattr(store, "engine", None)
        backend = engine.url.get_backend_name() if engine is not None else "database"
        if self._ping is None or self._ping.done():
            self._ping = _in_daemon_thread(store.ping)
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(self._ping)), self.db_timeout_s)
        except TimeoutError:
            return _not("database", f"the database ({backend}) did not answer SELECT 1 within {self.db_timeout_s:g} s",
                        "check that the database server is up and not overloaded, and that the network to it does "
                        "not drop packets; give a PostgreSQL URL ?connect_timeout=5 so a lost server fails fast")
        except Exception as exc:  # noqa: BLE001 - any failure to reach the database is the answer
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
            return _not("database", f"cannot reach the database ({backend}): {type(exc).__name__}: {reason}",
                        "check that the database in BEDSIDE_DATABASE_URL is running and reachable from this host "
                        "(for PostgreSQL: pg_isready -h HOST -p PORT) and that its user and password are right")
        return _ok("database", f"{backend} answered SELECT 1")


def _in_daemon_thread(call) -> concurrent.futures.Future:
    """Run `call` in a daemon thread: one stuck on a dead database never holds up the process's exit."""
    future: concurrent.futures.Future = concurrent.futures.Future()

    def run() -> None:
        future.set_running_or_notify_cancel()
        try:
            future.set_result(call())
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting probe
            future.set_exception(exc)

    threading.Thread(target=run, name="readyz-database", daemon=True).start()
    return future


def _draining(services: Services) -> ReadinessCheck:
    """After SIGTERM the replica finishes its turns and closes: the proxy should send nobody new."""
    if getattr(services.connections, "draining", False):
        return _not("draining", "this replica is shutting down (SIGTERM): it finishes turns in flight and takes no new sessions",
                    "nothing to do: its learners resume on another replica; start a new replica if capacity is short")
    return _ok("draining", "accepting sessions")


def model_checks(services: Services) -> list[ReadinessCheck]:
    """Every model check, in the order a learner's turn meets them."""
    return [_packs(services), _grader(services), _realiser(services), _asr(services), _tts(services),
            _end_of_turn(services)]


def _packs(services: Services) -> ReadinessCheck:
    registry = services.engine.registry
    if registry.packs:
        return _ok("persona_packs", f"{len(registry.packs)} persona pack(s) loaded")
    return _not("persona_packs", "no valid persona pack is loaded, so no session can start",
                "fix the refused packs (GET /api/personas lists each one's problems) or point BEDSIDE_PERSONA_DIR "
                "at a folder of packs, then restart")


def _grader(services: Services) -> ReadinessCheck:
    from ..grading.rules import RuleGrader

    wanted, grader = services.settings.grader, getattr(services.engine, "grader", None)
    version = getattr(grader, "version", "?")
    if wanted == "rules":
        return _ok("grader", f"the rules grader ({version}) needs no model")
    if wanted == "judge":
        from ..grading.judge import JudgeGrader

        if isinstance(grader, JudgeGrader):
            return _ok("grader", f"judge {grader.model} (remote, not probed: a turn it cannot grade falls back to "
                       f"{getattr(grader.fallback, 'version', 'the trained grader')})")
        return _not("grader", f"grader=judge is not configured, so turns are graded by {version}",
                    "set BEDSIDE_OPENAI_BASE_URL and BEDSIDE_OPENAI_MODEL to an OpenAI-compatible chat server, or "
                    "choose BEDSIDE_GRADER=trained")
    if grader is not None and not isinstance(grader, RuleGrader):
        return _ok("grader", f"the trained grader ({version}) is loaded")
    return _not("grader", "the trained grader's artefact is missing, so turns are graded by the rules",
                "restore server/grading/model (reinstall Bedside, or run `bedside grade train`), or set "
                "BEDSIDE_GRADER=rules to grade by the rules on purpose")


def _realiser(services: Services) -> ReadinessCheck:
    wanted, realiser = services.settings.realiser, getattr(services.engine, "realiser", None)
    if wanted == "template":
        return _ok("realiser", "the template realiser needs no model")
    if wanted == "openai":
        return _ok("realiser", "openai realiser (remote, not probed: a reply it cannot give uses the template)")
    local = getattr(realiser, "model", None)
    if getattr(local, "model", None) is not None:
        return _ok("realiser", f"dialogue model {local.name} is loaded")
    return _not("realiser", "the dialogue model did not load (the start-up log says why), so replies use the template",
                "run `bedside models prepare`, or set BEDSIDE_REALISER_MODEL to a model directory or .gguf file, or "
                "choose BEDSIDE_REALISER=template")


def _asr(services: Services) -> ReadinessCheck:
    from ..speech.asr.factory import loaded_transcriber

    backend = services.settings.asr_backend
    if loaded_transcriber(services.settings) is None:
        return _not("asr", f"the {backend} transcriber is not loaded in this process, so voice sessions cannot start "
                    "(the start-up log says why: 'voice is unavailable')",
                    "run `bedside models prepare` for the local backends, or set BEDSIDE_ASR_BACKEND=openai and "
                    "BEDSIDE_ASR_OPENAI_BASE_URL to a transcription server; then restart")
    if backend == "openai":
        return _ok("asr", "remote transcription server (not probed: a failed transcription asks the learner to "
                   "say it again or type it)")
    return _ok("asr", f"the {backend} transcriber is loaded")


def _tts(services: Services) -> ReadinessCheck:
    from ..speech.tts.factory import loaded_synthesizer

    backend = services.settings.tts_backend
    if loaded_synthesizer(services.settings) is None:
        return _not("tts", f"the {backend} voice is not loaded in this process (the start-up log says why: 'voice "
                    "is unavailable')", "install espeak-ng (pyttsx3), the piper extra (piper), or set "
                    "BEDSIDE_TTS_OPENAI_BASE_URL (openai); BEDSIDE_TTS_BACKEND=none serves text replies only")
    if backend == "openai":
        return _ok("tts", "remote speech server (not probed: a sentence it cannot speak is shown unspoken)")
    return _ok("tts", f"the {backend} voice is loaded")


def _end_of_turn(services: Services) -> ReadinessCheck:
    loaded = services.end_of_turn_loaded()
    if not loaded:
        return _ok("end_of_turn", "the silence detector needs no model")
    missing = [name for name, state in loaded.items() if not state]
    if not missing:
        return _ok("end_of_turn", f"the semantic detector's {' and '.join(loaded)} are loaded")
    return _not("end_of_turn", f"the semantic turn detector's {' and '.join(missing)} is not loaded, so spoken turns "
                "end on silence alone", "retrain the text judge with `bedside turn train` (the start-up log names the "
                "problem), or set BEDSIDE_TURN_DETECTOR=silence")

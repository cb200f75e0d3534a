"""One load run: check the server, plan every learner (persona, lines, seeded think times),
start them staggered over the ramp, let them talk, read every session back, and report."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from . import lifecycle
from .connection import Connection
from .lines import session_lines
from .pacing import Pacing, ThinkTime, session_rng
from .readback import check_educator_token, read_back
from .records import CONNECT_FAILED, CONNECTION_LOST, SessionRecord
from .report import LoadReport, Machine, RunConfig, StageFigures, error_counts, stage_figures, storage_check, verdict
from .target import Target, choose_personas, probe
from .text_session import run_text_turns
from .voice_session import run_voice_turns

log = logging.getLogger(__name__)
LAG_TICK_S = 0.1


@dataclass
class Options:
    url: str
    mode: str = "text"
    sessions: int = 10
    turns: int = 5
    persona: str | None = None
    pacing: Pacing = field(default_factory=lambda: Pacing("none", ThinkTime(0, 0)))
    ramp_s: float = 0.0
    seed: int = 0
    educator_token: str | None = None
    timeout_s: float = 60.0
    max_error_rate: float = 0.01
    push_to_talk: bool = False
    audio_cache: Path | None = None
    learner_prefix: str = "loadtest"


def run(options: Options) -> LoadReport:
    """The whole run; a SetupError (exit 2) before any load is sent if the target is wrong."""
    target = Target.parse(options.url)
    info = probe(target)
    personas = choose_personas(info, options.persona)
    if options.educator_token:
        check_educator_token(target, options.educator_token)
    tag = secrets.token_hex(3)  # two runs on one database never share a learner id
    plans = []
    for i in range(options.sessions):
        rng = session_rng(options.seed, i)
        plans.append((SessionRecord(i, personas[i % len(personas)], f"{options.learner_prefix}-{tag}-{i:04d}"),
                      session_lines(options.turns, rng), rng))
    audio = {}
    if options.mode == "voice":
        from .speech import default_cache_dir, learner_audio
        audio = learner_audio([line for _, lines, _ in plans for line in lines], options.audio_cache or default_cache_dir())
    load_before = os.getloadavg()
    report = asyncio.run(_run(options, target, plans, audio))
    report.server = info.health
    report.config.personas = personas
    report.machine = Machine(cpus=os.cpu_count(), load_before=[round(x, 2) for x in load_before],
                             load_after=[round(x, 2) for x in os.getloadavg()])
    report.problems = verdict(report)
    return report


async def _run(options: Options, target: Target, plans: list, audio: dict[str, bytes]) -> LoadReport:
    lags: list[float] = []
    monitor = asyncio.create_task(_watch_loop(lags))
    t0 = time.perf_counter()
    records = await asyncio.gather(*(
        _learner(options, target, record, lines, rng, audio, delay=options.ramp_s * i / max(1, len(plans)))
        for i, (record, lines, rng) in enumerate(plans)))
    wall = time.perf_counter() - t0
    monitor.cancel()
    stored = await read_back(target, [r for r in records if r.session_id], options.educator_token, options.timeout_s)
    found, lost, unverified, extra = storage_check(records, stored)
    errors = error_counts(records)
    acknowledged = sum(len(r.acknowledged) for r in records)
    pacing = options.pacing
    return LoadReport(
        config=RunConfig(url=target.shown, mode=options.mode, sessions=options.sessions, turns_per_session=options.turns,
                         pacing=pacing.mode, think_s=[pacing.think.low_s, pacing.think.high_s] if pacing.realistic else None,
                         ramp_s=options.ramp_s, seed=options.seed, push_to_talk=options.push_to_talk, personas=[]),
        server={}, machine=Machine(cpus=None, load_before=[], load_after=[]), wall_s=round(wall, 2),
        sessions_started=sum(1 for r in records if r.session_id),
        turns_attempted=sum(r.turns_attempted for r in records), turns_acknowledged=acknowledged,
        turns_stored=found, turns_lost=lost, sessions_unverified=unverified, stored_unacknowledged=extra,
        discarded=sum(r.discarded for r in records), extra_turns=sum(r.extra_turns for r in records),
        errors=dict(errors), error_rate=round(sum(errors.values()) / max(1, options.sessions * options.turns), 4),
        max_error_rate=options.max_error_rate, throughput_turns_per_s=round(acknowledged / wall, 2) if wall else 0.0,
        stages=stage_figures(records), client_loop_lag=StageFigures.of(lags) if lags else None,
        problems=[])


async def _learner(options: Options, target: Target, record: SessionRecord, lines: list[str], rng, audio: dict,
                   delay: float) -> SessionRecord:
    await asyncio.sleep(delay)
    try:
        conn = await Connection.open(target.ws_url, record, options.timeout_s)
    except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
        log.warning("session %d could not connect: %r", record.session_no, exc)
        record.error(CONNECT_FAILED)
        return record
    try:
        if await lifecycle.start(conn, record, options.mode, options.timeout_s) is None:
            return record
        if options.mode == "voice":
            await run_voice_turns(conn, record, lines, audio, options.pacing, rng, options.timeout_s, options.push_to_talk)
        else:
            await run_text_turns(conn, record, lines, options.pacing, rng, options.timeout_s)
        await lifecycle.end(conn, record, options.timeout_s)
    except ConnectionClosed:
        record.error(CONNECTION_LOST)
    finally:
        await conn.close()
    return record


async def _watch_loop(lags: list[float]) -> None:
    """How late the client's own event loop wakes: when it is busy, client-side figures grow
    for reasons that are not the server's."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + LAG_TICK_S
        await asyncio.sleep(LAG_TICK_S)
        lags.append(max(0.0, (loop.time() - due) * 1000))

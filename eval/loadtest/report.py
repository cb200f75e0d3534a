"""The figures of one run and its verdict.

Latencies are per stage, in ms, as p50, p95 and max over every answered turn of the run, with
the one percentile definition the project uses (nearest rank, eval/bench/percentile.py). The
verdict fails the run on any acknowledged turn missing from the store, on a session that could
not be read back, and on an error rate over the threshold.
"""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, Field, computed_field

from eval.bench.percentile import percentile

from .readback import Stored
from .records import SessionRecord


class StageFigures(BaseModel):
    n: int
    p50_ms: float
    p95_ms: float
    max_ms: float

    @classmethod
    def of(cls, values: list[float]) -> "StageFigures":
        return cls(n=len(values), p50_ms=round(percentile(values, 50), 1), p95_ms=round(percentile(values, 95), 1),
                   max_ms=round(max(values), 1))


class LostTurn(BaseModel):
    session_id: str
    turn_id: int


class RunConfig(BaseModel):
    url: str
    mode: str
    sessions: int
    turns_per_session: int
    pacing: str
    think_s: list[float] | None = Field(description="[low, high] seconds, uniform; null in stress mode")
    ramp_s: float
    seed: int
    push_to_talk: bool = False
    personas: list[str]


class Machine(BaseModel):
    cpus: int | None
    load_before: list[float] = Field(description="1, 5 and 15 minute load averages of the client's machine")
    load_after: list[float]


class LoadReport(BaseModel):
    config: RunConfig
    server: dict = Field(description="The server's /healthz at the start (version, database backend, personas)")
    machine: Machine
    wall_s: float
    sessions_started: int
    turns_attempted: int
    turns_acknowledged: int
    turns_stored: int = Field(description="Of the acknowledged turns, how many the read-back found stored")
    turns_lost: list[LostTurn] = Field(description="Acknowledged but not stored: must be empty")
    sessions_unverified: dict[str, str] = Field(description="session id -> why it could not be read back")
    stored_unacknowledged: int = Field(description="Stored turns whose acknowledgement never arrived (e.g. after "
                                       "a client timeout); not a loss")
    discarded: int = Field(0, description="Voice: spoken lines the server took for non-speech")
    extra_turns: int = Field(0, description="Voice: extra turns the server cut out of one spoken line")
    errors: dict[str, int] = Field(description="error code -> count; client.* are the load generator's own")
    error_rate: float = Field(description="errors / turns attempted")
    max_error_rate: float
    throughput_turns_per_s: float
    stages: dict[str, StageFigures] = Field(description="stage -> latency over answered turns; client.* measured "
                                            "here, server.* as the server reports them")
    client_loop_lag: StageFigures | None = Field(None, description="How late the load generator's own event loop "
                                                 "woke (a busy client inflates client.* figures)")
    problems: list[str] = Field(description="Why the run failed (see `verdict`); empty when it passed")

    @computed_field
    @property
    def passed(self) -> bool:
        return not self.problems


def stage_figures(records: list[SessionRecord]) -> dict[str, StageFigures]:
    pooled: dict[str, list[float]] = {}
    for record in records:
        for sample in record.samples:
            for stage, ms in sample.items():
                pooled.setdefault(stage, []).append(ms)
    return {stage: StageFigures.of(values) for stage, values in sorted(pooled.items())}


def storage_check(records: list[SessionRecord], stored: list[Stored]) -> tuple[int, list[LostTurn], dict[str, str], int]:
    """(acknowledged turns found stored, lost turns, unverified sessions, stored but unacknowledged)."""
    by_id = {s.session_id: s for s in stored}
    found, lost, unverified, extra = 0, [], {}, 0
    for record in records:
        if not record.session_id:
            continue
        s = by_id.get(record.session_id)
        if s is None or s.turn_ids is None:
            unverified[record.session_id] = s.problem if s else "not read back"
            continue
        found += len(record.acknowledged & s.turn_ids)
        lost += [LostTurn(session_id=record.session_id, turn_id=t) for t in sorted(record.acknowledged - s.turn_ids)]
        extra += len(s.turn_ids - record.acknowledged)
    return found, lost, unverified, extra


def verdict(report: LoadReport) -> list[str]:
    """What makes the run fail, worded for the person reading it."""
    problems = []
    if report.turns_lost:
        problems.append(f"LOST TURNS: {len(report.turns_lost)} acknowledged turn(s) are not in the store: "
                        + ", ".join(f"{t.session_id} turn {t.turn_id}" for t in report.turns_lost[:10]))
    if report.sessions_unverified:
        problems.append(f"{len(report.sessions_unverified)} session(s) could not be read back, so their turns are "
                        f"unverified: " + "; ".join(f"{k}: {v}" for k, v in list(report.sessions_unverified.items())[:3]))
    if report.error_rate > report.max_error_rate:
        problems.append(f"error rate {report.error_rate:.1%} is over the threshold {report.max_error_rate:.1%} "
                        f"(--max-error-rate): {dict(report.errors)}")
    if report.turns_acknowledged == 0:
        problems.append("no turn was acknowledged at all")
    return problems


def error_counts(records: list[SessionRecord]) -> Counter:
    total: Counter = Counter()
    for record in records:
        total.update(record.errors)
    return total


def render(report: LoadReport) -> str:
    """The report for a person: configuration, storage check, errors, then the stage table."""
    c, m = report.config, report.machine
    think = f"think {c.think_s[0]:g}-{c.think_s[1]:g} s" if c.think_s else "back to back"
    out = [f"bedside loadtest {c.url}: {c.mode}, {c.sessions} session(s) x {c.turns_per_session} turn(s), "
           f"pacing {c.pacing} ({think}), ramp {c.ramp_s:g} s, seed {c.seed}"
           + (", push-to-talk" if c.push_to_talk else ""),
           f"server {report.server.get('version', '?')}, database {report.server.get('database', '?')}; "
           f"personas {', '.join(c.personas)}",
           f"machine: {m.cpus} CPU(s), load average {' '.join(f'{x:.2f}' for x in m.load_before)} before, "
           f"{' '.join(f'{x:.2f}' for x in m.load_after)} after",
           f"wall {report.wall_s:.1f} s, {report.sessions_started} session(s) started, "
           f"{report.throughput_turns_per_s:.2f} acknowledged turns/s",
           f"turns: {report.turns_attempted} attempted, {report.turns_acknowledged} acknowledged, "
           f"{report.turns_stored} of those stored, {len(report.turns_lost)} lost"
           + (f", {report.stored_unacknowledged} stored without acknowledgement" if report.stored_unacknowledged else "")
           + (f", {report.discarded} discarded as non-speech" if report.discarded else "")
           + (f", {report.extra_turns} extra turn(s) cut from a line" if report.extra_turns else ""),
           "errors: " + (", ".join(f"{k} {v}" for k, v in sorted(report.errors.items())) or "none")
           + f" (rate {report.error_rate:.1%}, threshold {report.max_error_rate:.1%})",
           f"{'stage (ms)':28s} {'n':>5s} {'p50':>8s} {'p95':>8s} {'max':>8s}"]
    rows = list(report.stages.items()) + ([("client.loop_lag", report.client_loop_lag)] if report.client_loop_lag else [])
    for name, f in rows:
        out.append(f"{name:28s} {f.n:5d} {f.p50_ms:8.1f} {f.p95_ms:8.1f} {f.max_ms:8.1f}")
    out.append("PASSED" if report.passed else "FAILED:\n  " + "\n  ".join(report.problems))
    return "\n".join(out)

"""Text-turn latency of a real Bedside server over the websocket.

Starts `bedside serve` (template realiser) on a free port with a temporary data
directory, plays text sessions across every loaded persona, and prints:
  * server-side turn latency: engine + store commit, from grade.turn timings_ms.server_total
  * engine-only and commit-only latency
  * client round-trip latency: learner.text sent -> patient.text received
  * the server's resident memory (VmRSS, and peak VmHWM, from /proc/<pid>/status)
Nothing is hard-coded: every figure printed is measured in this run.

    .venv/bin/python eval/bench/bench_text_latency.py [--turns 200] [--clients 1] [--report-only]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

import httpx

from eval.bench.percentile import percentile
from server.api.client import SessionClient
from server.api.launch import ServerProcess
from server.config import Settings

TARGET_P95_MS = 50.0
TURNS_PER_SESSION = 10
WARMUP_TURNS = 5
STAGES = ("understand", "grade", "state", "plan", "realise")
SCRIPT = [
    "Hello, I'm Dr Rivera, one of the doctors here. What brings you in today?",
    "Can you tell me more about that?",
    "When did this start?",
    "That sounds really frightening.",
    "What worries you most about it?",
    "How are things at home at the moment?",
    "Are you taking any medication?",
    "It makes sense that you'd feel this way, anyone would.",
    "What would help you most right now?",
    "Could you tell me in your own words what we've agreed?",
    "Is there anything else you'd like to ask me?",
    "Thank you for telling me all of this.",
]


def proc_status(pid: int, key: str) -> int | None:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


def persona_dir(requested: str | None, scratch: Path) -> Path:
    """The given or configured packs; a scaffolded demo pack if none are valid."""
    from server.persona.loader import validate_paths

    d = Path(requested) if requested else Settings().persona_dir
    packs, _ = validate_paths([d]) if d.is_dir() else ([], [])
    if packs:
        return d
    from server.cli import main as bedside

    demo = scratch / "personas"
    bedside(["persona", "new", "demo", "--persona-dir", str(demo)])
    print(f"[bench] no valid packs in {d}; using a scaffolded demo pack", file=sys.stderr)
    return demo


async def play(url: str, personas: list[str], turns: int, client_no: int, samples: dict[str, list[float]],
               record: bool = True, think_ms: float = 0.0) -> int:
    """Run `turns` learner turns in sessions of TURNS_PER_SESSION, rotating personas, with
    `think_ms` between a reply and the next line (a learner reads or hears the reply first)."""
    done, session_no = 0, 0
    while done < turns:
        persona = personas[(client_no + session_no) % len(personas)]
        async with await SessionClient.open(url) as c:
            await c.start(persona, f"bench-{client_no}")
            for line in SCRIPT[:min(TURNS_PER_SESSION, turns - done)]:
                reply = await c.say(line)
                t = reply.grade["timings_ms"]
                if record:
                    samples["server"].append(t["server_total"])
                    samples["engine"].append(t["total"])
                    samples["commit"].append(t["commit"])
                    samples["round_trip"].append(reply.round_trip_ms)
                    for stage in STAGES:
                        samples.setdefault(f"stage:{stage}", []).append(t.get(stage, 0.0))
                done += 1
                if think_ms:
                    await asyncio.sleep(think_ms / 1000)
            await c.end()
        session_no += 1
    return done


def report(name: str, values: list[float]) -> str:
    return (f"{name:<34} n={len(values):<4} p50={percentile(values, 50):7.2f}  p95={percentile(values, 95):7.2f}  "
            f"max={max(values):7.2f}  mean={statistics.fmean(values):7.2f}")


async def run(args) -> int:
    scratch = Path(tempfile.mkdtemp(prefix="bedside-bench-"))
    packs = persona_dir(args.persona_dir, scratch)
    server = ServerProcess(scratch / "data", packs, extra_args=["--realiser", "template"],
                           log_file=scratch / "server.log")
    server.start()
    try:
        personas = [p["id"] for p in httpx.get(server.url + "/api/personas").json()["personas"]]
        rss_idle = proc_status(server.pid, "VmRSS")
        samples: dict[str, list[float]] = {"server": [], "engine": [], "commit": [], "round_trip": []}
        load_before = os.getloadavg()[0]
        await play(server.ws_url, personas, WARMUP_TURNS, 0, samples, record=False)
        share = [args.turns // args.clients + (i < args.turns % args.clients) for i in range(args.clients)]
        await asyncio.gather(*(play(server.ws_url, personas, n, i, samples, think_ms=args.think_ms) for i, n in enumerate(share)))
        rss, hwm = proc_status(server.pid, "VmRSS"), proc_status(server.pid, "VmHWM")
        load_after = os.getloadavg()[0]
    finally:
        server.stop()

    p95 = percentile(samples["server"], 95)
    print(f"Bedside text-turn latency: {len(samples['server'])} turns over {args.clients} websocket client(s), "
          f"{len(personas)} persona(s) ({', '.join(personas)}), template realiser, SQLite (WAL, synchronous=FULL); "
          f"{WARMUP_TURNS} warm-up turns not counted; {args.think_ms:.0f} ms between a reply and the next line. Times in ms.")
    print(report("server turn (engine + commit)", samples["server"]))
    print(report("  engine only", samples["engine"]))
    print(report("  store commit only", samples["commit"]))
    print("  engine stages p50/p95: " + ", ".join(
        f"{st} {percentile(samples['stage:' + st], 50):.2f}/{percentile(samples['stage:' + st], 95):.2f}" for st in STAGES))
    print(report("client round trip", samples["round_trip"]))
    print(f"server memory: VmRSS {rss / 1024:.1f} MiB after the run (idle after start-up {rss_idle / 1024:.1f} MiB), "
          f"peak VmHWM {hwm / 1024:.1f} MiB")
    print(f"machine: {os.cpu_count()} CPU(s), 1-min load average {load_before:.2f} before and {load_after:.2f} after "
          "the measured turns (other processes share the CPU; high load inflates the tail)")
    met = p95 < TARGET_P95_MS
    print(f"target server p95 < {TARGET_P95_MS:.0f} ms: {'met' if met else 'MISSED'} (p95 = {p95:.2f} ms)")
    if args.json:
        print(json.dumps({"turns": len(samples["server"]), "clients": args.clients, "personas": personas,
                          **{f"{k.replace('stage:', '')}_p50_ms": percentile(v, 50) for k, v in samples.items()},
                          **{f"{k.replace('stage:', '')}_p95_ms": percentile(v, 95) for k, v in samples.items()},
                          "rss_kib": rss, "rss_idle_kib": rss_idle, "hwm_kib": hwm}))
    return 1 if args.enforce and not met else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--turns", type=int, default=200, help="measured learner turns (default 200)")
    ap.add_argument("--clients", type=int, default=1, help="concurrent websocket learners (default 1)")
    ap.add_argument("--persona-dir", help="persona packs (default: the configured persona dir)")
    ap.add_argument("--think-ms", type=float, default=400.0,
                    help="pause between a reply and the learner's next line (default 400; 0 plays turns back to back)")
    ap.add_argument("--json", action="store_true", help="also print one JSON line of the figures")
    ap.add_argument("--report-only", dest="enforce", action="store_false", help=f"do not fail on a missed target (by default, exit 1 if server p95 >= {TARGET_P95_MS:.0f} ms)")
    args = ap.parse_args()
    if args.turns < 1 or args.clients < 1:
        ap.error("--turns and --clients must be at least 1")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())

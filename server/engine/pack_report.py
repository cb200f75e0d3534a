"""The report of `bedside persona check` for one pack: reachability (`pack_check`), coverage of
generic questions (`coverage`) and clashes (`clashes`), shared by the command and the case editor.

Errors are things a learner can never reach; warnings (coverage gaps, clashes) are worth a look.
"""

from __future__ import annotations

from pathlib import Path

from ..persona.todos import todo_markers
from .clashes import clashes
from .coverage import coverage, covered_share
from .pack_check import check_pack
from .patient import Engine


def pack_report(engine: Engine, pack_id: str, file: Path | None = None) -> dict:
    """One pack's full check as `bedside persona check --json` prints it (errors, warnings,
    what was reached and when, coverage, clashes, and the TODO markers left in `file`)."""
    res = check_pack(engine, pack_id)
    rows = coverage(engine, pack_id)
    found = clashes(engine, engine.pack(pack_id))
    errors = [f"hidden concern '{c}' is never revealed to an empathic learner (hint: check its gate's min_trust and "
              "requires, and that the cues it requires can fire)" for c in res.concerns_missed]
    errors += [f"opportunity '{o}' is never raised (hint: check its trigger: a fact trigger needs a fact a learner can be "
               "told, a turn trigger a reachable turn)" for o in res.opportunities_missed]
    gaps = [r for r in rows if r.verdict in ("no_fact", "doubtful")]
    warnings = [f"coverage: {r.verdict.replace('_', ' ')}: \"{r.question}\" ({r.area})" + (f": {r.why}" if r.why else "")
                for r in gaps]
    warnings += [f"clash: {c.where}: {c.message} (hint: {c.hint})" for c in found]
    todos = todo_markers(file) if file is not None else []
    warnings += [f"todo: {t}" for t in todos]
    return {"id": pack_id, "errors": errors, "warnings": warnings, "simulated_turns": res.turns,
            "todos": [t.__dict__ for t in todos],
            "reached": {k: {"turn": t, "learner": who} for k, (t, who) in res.reached.items()},
            "coverage": {"covered_share": round(covered_share(rows), 3), "questions": [r.as_dict() for r in rows]},
            "clashes": [c.as_dict() for c in found], "trace": res.trace}

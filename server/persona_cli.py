"""`bedside persona schema|validate|new`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .persona.loader import PACK_FILE, check_persona_id, pack_files, validate_paths
from .persona.schema import PersonaPack

TEMPLATE = Path(__file__).parent / "persona" / "template.yaml"


def run(args, settings) -> int:
    if args.persona_command == "schema":
        schema = PersonaPack.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = "Bedside persona pack"
        print(json.dumps(schema, indent=2))
        return 0
    if args.persona_command == "validate":
        paths = [Path(p) for p in args.paths] or [settings.persona_dir]
        packs, problems = validate_paths(paths)
        for p in problems:
            print(p)
        if not packs and not problems:
            print(f"no persona packs found in {', '.join(map(str, paths))} (hint: a pack is <dir>/{PACK_FILE})")
            return 1
        print(f"{len(packs)} pack(s) valid, {len(problems)} problem(s)", file=sys.stderr)
        return 1 if problems else 0
    if args.persona_command == "check":
        return _check(args, settings)
    if args.persona_command == "import":
        return _import(args)
    if args.persona_command == "new":
        try:
            pid = check_persona_id(args.id)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        target = Path(settings.persona_dir) / pid
        if (target / PACK_FILE).exists():
            print(f"error: {target / PACK_FILE} already exists; choose another id or edit it", file=sys.stderr)
            return 2
        target.mkdir(parents=True, exist_ok=True)
        (target / PACK_FILE).write_text(TEMPLATE.read_text().replace("__ID__", pid))
        print(f"wrote {target / PACK_FILE}; edit it, then run: bedside persona validate {target}")
        return 0
    return 2


IMPORTERS = ("agentclinic",)


def _import(args) -> int:
    """Draft packs from another case format; each draft validates, its TODO markers say what to write."""
    if args.source not in IMPORTERS:
        print(f"error: unknown source '{args.source}' (hint: the sources are: {', '.join(IMPORTERS)})", file=sys.stderr)
        return 2
    from .persona.import_agentclinic import CaseError, import_file
    try:
        drafts = import_file(Path(args.file), Path(args.out), force=args.force)
    except CaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for d in drafts:
        print(f"{Path(args.out) / d.pack_id}: line {d.line}, {d.todos} TODO(s)")
    print(f"wrote {len(drafts)} draft(s); list what each needs with: bedside persona check {args.out}", file=sys.stderr)
    return 0


def _check(args, settings) -> int:
    """Validate (schema and references in one pass), then for each valid pack: reachability
    (`engine.pack_check`), coverage of generic questions (`engine.coverage`), clashes
    (`engine.clashes`) and TODO markers left to write (`persona.todos`, e.g. in an imported draft).
    Errors (invalid packs, unreachable concerns or opportunities) exit 1; coverage gaps, clashes
    and TODOs are warnings, which `--strict` makes errors too."""
    from .engine.factory import build_engine
    from .engine.pack_report import pack_report
    from .persona.loader import PackRegistry

    paths = [Path(p) for p in args.paths] or [settings.persona_dir]
    packs, problems = validate_paths(paths)
    reports = []
    if packs:
        engine = build_engine(settings, registry=PackRegistry.from_packs(packs))
        files = {f.parent.name: f for f in pack_files(paths)}  # the loader holds each pack's id to its directory name
        reports = [pack_report(engine, pack.id, files.get(pack.id)) for pack in packs]
    failed = bool(problems) or not packs or any(r["errors"] for r in reports) \
        or (args.strict and any(r["warnings"] for r in reports))
    if args.json:
        print(json.dumps({"ok": not failed, "problems": [p.__dict__ for p in problems], "packs": reports}, indent=1))
        return 1 if failed else 0
    for p in problems:
        print(p)
    if not packs:
        print(f"no valid persona packs in {', '.join(map(str, paths))}", file=sys.stderr)
    for r in reports:
        _print_report(r, trace=args.trace)
    return 1 if failed else 0


def _print_report(r: dict, *, trace: bool) -> None:
    status = "FAILED" if r["errors"] else "ok"
    print(f"{r['id']}: {status} ({r['simulated_turns']} simulated turns)")
    reached = ", ".join(f"{k} at turn {v['turn']}" + (" (opening)" if v["turn"] == 0 else "")
                        + (" (dismissive learner)" if v["learner"] == "dismissive" else "") for k, v in r["reached"].items())
    print(f"  reached: {reached or 'nothing'}")
    for e in r["errors"]:
        print(f"  error: {e}")
    cov = r["coverage"]
    n = len(cov["questions"])
    print(f"  coverage: {round(cov['covered_share'] * n)}/{n} generic history questions answered or gated "
          f"({cov['covered_share']:.0%})")
    for w in r["warnings"]:
        print(f"  warning: {w}")
    if trace and r["errors"]:
        print("\n".join(f"    {t}" for t in r["trace"]))

"""`bedside persona schema|validate|new`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .persona.loader import PACK_FILE, check_persona_id, validate_paths
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


def _check(args, settings) -> int:
    """Validate, then simulate each valid pack (`engine.pack_check`)."""
    from .engine.factory import build_engine
    from .engine.pack_check import check_pack
    from .persona.loader import PackRegistry

    paths = [Path(p) for p in args.paths] or [settings.persona_dir]
    packs, problems = validate_paths(paths)
    for p in problems:
        print(p)
    if not packs:
        print(f"no valid persona packs in {', '.join(map(str, paths))}", file=sys.stderr)
        return 1
    registry = PackRegistry.from_packs(packs)
    engine = build_engine(settings, registry=registry)
    failed = 0
    for pack in packs:
        res = check_pack(engine, pack.id)
        if res.ok:
            print(f"{pack.id}: ok, every hidden concern and opportunity reached ({res.turns} simulated turns)")
            continue
        failed += 1
        if res.concerns_missed:
            print(f"{pack.id}: hidden concern(s) never revealed to an empathic learner: {', '.join(res.concerns_missed)} "
                  f"(hint: check their gate's min_trust and requires, and that the cues they require can fire)")
        if res.opportunities_missed:
            print(f"{pack.id}: opportunity(ies) never raised: {', '.join(res.opportunities_missed)} "
                  f"(hint: check the trigger: a fact trigger needs a fact a learner can be told, a turn trigger a reachable turn)")
        if args.trace:
            print("\n".join(f"    {t}" for t in res.trace))
    return 1 if failed or problems else 0

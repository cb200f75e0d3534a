"""`bedside` command line. Each subcommand lives in its own module; this file only wires flags."""

from __future__ import annotations

import argparse
import sys

from .config import get_settings


def _settings_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", dest="data_dir", help="data directory (env BEDSIDE_DATA_DIR)")
    p.add_argument("--database-url", dest="database_url", help="SQLAlchemy URL (env BEDSIDE_DATABASE_URL)")
    p.add_argument("--persona-dir", dest="persona_dir", help="persona packs directory (env BEDSIDE_PERSONA_DIR)")
    p.add_argument("--grader", choices=["rules", "trained", "judge"], help="grader backend (env BEDSIDE_GRADER)")
    p.add_argument("--realiser", choices=["template", "transformers", "openai"], help="realiser backend (env BEDSIDE_REALISER)")
    p.add_argument("--asr-backend", dest="asr_backend", choices=["faster-whisper", "openai-whisper", "openai"])
    p.add_argument("--tts-backend", dest="tts_backend", choices=["pyttsx3", "piper", "none"])


_SETTING_KEYS = ("data_dir", "database_url", "persona_dir", "grader", "realiser", "asr_backend", "tts_backend",
                 "host", "port", "educator_token", "store_audio", "default_persona", "vad_silence_ms", "barge_in_ms",
                 "turn_detector", "max_pause_ms")


def settings_from(args: argparse.Namespace):
    return get_settings(**{k: getattr(args, k, None) for k in _SETTING_KEYS})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bedside", description="Bedside: a standardized patient for practising clinical empathy")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the web server")
    _settings_flags(serve)
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--educator-token", dest="educator_token")
    serve.add_argument("--default-persona", dest="default_persona")
    serve.add_argument("--store-audio", dest="store_audio", action="store_true", default=None,
                       help="keep learners' raw audio in the data directory")
    serve.add_argument("--vad-silence-ms", dest="vad_silence_ms", type=int, help="silence that ends a spoken turn (500)")
    serve.add_argument("--barge-in-ms", dest="barge_in_ms", type=int, help="speech over the patient that interrupts (600)")
    serve.add_argument("--turn-detector", dest="turn_detector", choices=["silence", "semantic"],
                       help="how a spoken turn ends: when the end-of-turn model says the learner has finished (semantic, "
                            "the default; a pause mid-sentence waits up to --max-pause-ms), or after the silence")
    serve.add_argument("--max-pause-ms", dest="max_pause_ms", type=int, help="semantic detector: longest pause (2000)")

    persona = sub.add_parser("persona", help="author and check persona packs")
    psub = persona.add_subparsers(dest="persona_command", required=True)
    psub.add_parser("schema", help="print the pack JSON Schema")
    val = psub.add_parser("validate", help="validate packs; exit 1 on any problem")
    val.add_argument("paths", nargs="*", help="pack dirs, persona.yaml files or a directory of packs (default: persona dir)")
    _settings_flags(val)
    chk = psub.add_parser("check", help="the educator's linter: schema and references, reachability (an empathic "
                                         "learner simulated), coverage of generic history questions, clashes; exit 1 "
                                         "on errors")
    chk.add_argument("paths", nargs="*", help="pack dirs or a directory of packs (default: persona dir)")
    chk.add_argument("--trace", action="store_true", help="print the simulated conversation of a failing pack")
    chk.add_argument("--json", action="store_true", help="one JSON object on stdout, for tools")
    chk.add_argument("--strict", action="store_true", help="exit 1 on warnings too (coverage gaps, clashes)")
    _settings_flags(chk)
    imp = psub.add_parser("import", help="draft persona packs from cases in another format (TODO markers show what "
                                         "a person must write; `persona check` lists them)")
    imp.add_argument("source", metavar="SOURCE", help="the case format: agentclinic (AgentClinic OSCE JSONL)")
    imp.add_argument("file", help="the case file, one case a line")
    imp.add_argument("--out", default="persona-drafts", help="directory for the drafts, one pack directory per case "
                                                           "(default: persona-drafts)")
    imp.add_argument("--force", action="store_true", help="overwrite drafts already in --out")
    new = psub.add_parser("new", help="scaffold a commented pack")
    new.add_argument("id")
    _settings_flags(new)

    chat = sub.add_parser("chat", help="talk to a persona in the terminal, or play a script")
    _settings_flags(chat)
    chat.add_argument("--persona", required=True)
    chat.add_argument("--script", help="file with one learner line per line ('-' for stdin)")
    chat.add_argument("--json", action="store_true", help="print one JSON object per turn")

    session = sub.add_parser("session", help="list, export and delete stored sessions")
    ssub = session.add_subparsers(dest="session_command", required=True)
    sl = ssub.add_parser("list")
    _settings_flags(sl)
    se = ssub.add_parser("export")
    _settings_flags(se)
    se.add_argument("--format", choices=["jsonl"], default="jsonl")
    se.add_argument("--session", dest="session_id", help="only this session")
    se.add_argument("--out", help="file to write (default stdout)")
    sd = ssub.add_parser("delete", help="delete every session of one learner: turns, grades and saved audio")
    _settings_flags(sd)
    sd.add_argument("--learner", required=True, metavar="ID", help="the learner id, exactly as `session list` shows it")
    sd.add_argument("--yes", action="store_true", help="delete without asking (needed when stdin is not a terminal)")
    models = sub.add_parser("models", help="prepare packaged model files")
    msub = models.add_subparsers(dest="models_command", required=True)
    mp = msub.add_parser("prepare", help="join and checksum Whisper, cache the dialogue model")
    _settings_flags(mp)
    mp.add_argument("--force", action="store_true")
    mc = msub.add_parser("convert-whisper", help="write an openai-whisper checkpoint from the CTranslate2 weights")
    _settings_flags(mc)
    mc.add_argument("--source", help="CTranslate2 Whisper directory (default: the prepared base model)")
    mc.add_argument("--out", help="checkpoint path (default: <data_dir>/models/whisper-base-openai.pt)")

    add_plugin_commands(sub)
    from .grading.cli import add_parser as add_grade_parser
    add_grade_parser(sub)
    from .speech.end_of_turn.cli import add_parser as add_turn_parser
    add_turn_parser(sub)
    return parser


PLUGIN_GROUP = "bedside.commands"


def add_plugin_commands(sub: argparse._SubParsersAction) -> None:
    """Commands other packages add to `bedside` through the entry-point group `bedside.commands`:
    each entry is a function that adds its parsers to `sub`, with `plugin_run` set to the
    function that runs them. The evaluation tools (`bedside eval`, `bedside simulate`) come this
    way from eval/, which the server itself never imports."""
    from importlib.metadata import entry_points

    for entry in entry_points(group=PLUGIN_GROUP):
        entry.load()(sub)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        from .api.serve import run_server
        return run_server(settings_from(args))
    if args.command == "persona":
        from . import persona_cli
        return persona_cli.run(args, settings_from(args))
    if args.command == "chat":
        from .chat import run_chat
        return run_chat(args, settings_from(args))
    if args.command == "models":
        from . import models
        return models.run(args, settings_from(args))
    if args.command == "grade":
        from .grading.cli import run as run_grade
        return run_grade(args, settings_from(args))
    if args.command == "turn":
        from .speech.end_of_turn.cli import run as run_turn
        return run_turn(args)
    if args.command == "session":
        from .store.cli import run_session_command
        return run_session_command(args, settings_from(args))
    if getattr(args, "plugin_run", None) is not None:
        return args.plugin_run(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())

"""Build the grading backend the settings choose (`BEDSIDE_GRADER`), with its fallbacks."""

from __future__ import annotations

import logging

from ..config import Settings, reveal

log = logging.getLogger(__name__)


def build_grader(settings: Settings):
    """settings.grader: "rules", "trained" or "judge" (an OpenAI-compatible chat model,
    falling back to the trained grader turn by turn). The trained grader falls back to the
    rules, with a warning, only when its artefact is missing."""
    from . import artefact
    from .rules import RuleGrader

    if settings.grader == "rules":
        return RuleGrader()
    if artefact.exists():
        from .trained import TrainedGrader
        base = TrainedGrader(runtime=settings.minilm_runtime)
    else:
        log.warning("trained grader artefact missing in %s; grading with the rules (run `bedside grade train`)", artefact.MODEL_DIR)
        base = RuleGrader()
    if settings.grader == "judge":
        if not (settings.openai_base_url and settings.openai_model):
            log.warning("grader=judge needs BEDSIDE_OPENAI_BASE_URL and BEDSIDE_OPENAI_MODEL; using %s", base.version)
            return base
        from .judge import JudgeGrader
        return JudgeGrader(settings.openai_base_url, settings.openai_model, reveal(settings.openai_api_key), base,
                           timeout=settings.judge_timeout_s)
    return base

"""Build the engine and its backends from settings (one place that knows the defaults)."""

from __future__ import annotations

import logging

from ..config import Settings, reveal
from ..persona.loader import PackRegistry
from .patient import Engine

log = logging.getLogger(__name__)


def build_grader(settings: Settings):
    """settings.grader: "rules", "trained" or "judge" (an OpenAI-compatible chat model,
    falling back to the trained grader turn by turn). The trained grader falls back to the
    rules, with a warning, only when its artefact is missing."""
    from ..grading import artefact
    from ..grading.rules import RuleGrader

    if settings.grader == "rules":
        return RuleGrader()
    if artefact.exists():
        from ..grading.trained import TrainedGrader
        base = TrainedGrader()
    else:
        log.warning("trained grader artefact missing in %s; grading with the rules (run `bedside grade train`)", artefact.MODEL_DIR)
        base = RuleGrader()
    if settings.grader == "judge":
        if not (settings.openai_base_url and settings.openai_model):
            log.warning("grader=judge needs BEDSIDE_OPENAI_BASE_URL and BEDSIDE_OPENAI_MODEL; using %s", base.version)
            return base
        from ..grading.judge import JudgeGrader
        return JudgeGrader(settings.openai_base_url, settings.openai_model, reveal(settings.openai_api_key), base,
                           timeout=settings.judge_timeout_s)
    return base


def build_realiser(settings: Settings):
    """The realiser named by settings.realiser; model realisers fall back to the template."""
    if settings.realiser == "transformers":
        from ..realise.transformers_backend import TransformersRealiser
        return TransformersRealiser(settings.realiser_model, models_dir=settings.models_dir,
                                    threads=settings.realiser_threads, temperature=settings.realiser_temperature,
                                    max_new_tokens=settings.realiser_max_new_tokens, timeout_s=settings.realiser_timeout_s)
    if settings.realiser == "openai":
        from ..realise.openai_backend import OpenAIRealiser
        return OpenAIRealiser.from_settings(settings)
    from ..realise.template import TemplateRealiser
    return TemplateRealiser()


def build_engine(settings: Settings, registry: PackRegistry | None = None) -> Engine:
    from .embedding import default_embedder
    registry = registry or PackRegistry(settings.persona_dir)
    return Engine(registry, default_embedder(), build_grader(settings), build_realiser(settings))

"""Build the engine and its backends from settings (one place that knows the defaults)."""

from __future__ import annotations

from ..config import Settings
from ..persona.loader import PackRegistry
from .patient import Engine


def build_grader(settings: Settings):
    from ..grading.rules import RuleGrader
    return RuleGrader()


def build_realiser(settings: Settings):
    from ..realise.template import TemplateRealiser
    return TemplateRealiser()


def build_engine(settings: Settings, registry: PackRegistry | None = None) -> Engine:
    from .embedding import default_embedder
    registry = registry or PackRegistry(settings.persona_dir)
    return Engine(registry, default_embedder(), build_grader(settings), build_realiser(settings))

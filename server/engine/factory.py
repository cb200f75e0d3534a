"""Build the engine and its backends from settings (one place that knows the defaults)."""

from __future__ import annotations

from ..config import Settings
from ..grading.factory import build_grader
from ..persona.loader import PackRegistry
from .patient import Engine


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
    from ..core.embedding import default_embedder
    registry = registry or PackRegistry(settings.persona_dir)
    embedder = default_embedder()
    if settings.minilm_runtime == "onnx":
        embedder.run_on_onnx()
    return Engine(registry, embedder, build_grader(settings), build_realiser(settings))

"""Persona packs as evaluation sees them: optional. A session whose pack has since been
removed or renamed still gets a report, only without the pack's labels and checklist."""

from __future__ import annotations

from pathlib import Path

from server.engine.patient import Engine
from server.grading.base import Grader
from server.persona.loader import PackRegistry
from server.persona.schema import PersonaPack


class Packs:
    def __init__(self, persona_dir: Path | None = None, registry: PackRegistry | None = None):
        self.registry = registry or PackRegistry(Path(persona_dir) if persona_dir else Path("."))

    def get(self, persona_id: str) -> PersonaPack | None:
        return self.registry.packs.get(persona_id)

    def title(self, persona_id: str) -> str:
        pack = self.get(persona_id)
        return f"{pack.identity.name}: {pack.title}" if pack else persona_id

    def helper_engine(self, grader: Grader | None = None) -> Engine:
        """An Engine used only for its pure helpers (`start` wording, `grade_context`).

        It has no embedder: retrieval is never run, so no model is loaded; without a grader it
        has the phrase rules, which load nothing either."""
        from server.grading.rules import RuleGrader

        return Engine(self.registry, embedder=None, grader=grader or RuleGrader())  # type: ignore[arg-type]

    def opening(self, persona_id: str) -> str | None:
        """The opening words the engine gives this persona (exports do not store them)."""
        if self.get(persona_id) is None:
            return None
        return self.helper_engine().start(persona_id)[1]

"""Engines for unsaved packs (the case editor's "try it" chat and full check).

A draft engine holds only the draft pack but shares the running engine's embedder, grader
and realiser, so trying a case never loads a second copy of the models. Building one embeds
the draft's questions (a fraction of a second), so the few most recent drafts are kept.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from ..persona.loader import PackRegistry
from ..persona.schema import PersonaPack
from .patient import Engine

KEEP = 4


def draft_version(pack: PersonaPack) -> str:
    """What a try-it session records as its pack version: marked as a draft, by content."""
    return "draft:" + hashlib.sha256(pack.model_dump_json().encode()).hexdigest()[:12]


class DraftEngines:
    def __init__(self, base: Engine, keep: int = KEEP):
        self.base = base
        self.keep = keep
        self._cache: OrderedDict[str, Engine] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, pack: PersonaPack) -> Engine:
        """An engine serving `pack` alone (built on the base engine's models)."""
        key = draft_version(pack)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        registry = PackRegistry.from_packs([pack])
        registry.versions = {pack.id: key}
        engine = Engine(registry, self.base.embedder, self.base.grader, self.base.realiser)
        engine.index(pack)
        with self._lock:
            self._cache[key] = engine
            while len(self._cache) > self.keep:
                self._cache.popitem(last=False)
        return engine

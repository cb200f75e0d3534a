"""Which learner id a `session.start` may use: the personal key decides, not the client.

A learner id held by a key (server/store/learner_keys.py) is that key's alone, so a client
cannot start sessions as someone else, nor read their history. A start without a key keeps
working as before for ids no key holds.
"""

from __future__ import annotations

import asyncio

from ..store.base import LearnerIdTaken, LearnerKeys
from .protocol import ProtocolError


def _taken(learner_id: str) -> ProtocolError:
    return ProtocolError("learner_id_taken", f"the learner id '{learner_id}' is kept by another learner's personal key; "
                         "send that key as learner_key (the browser client takes it under My sessions), or choose "
                         "another learner id")


async def learner_for_start(keys: LearnerKeys, learner_id: str, learner_key: str | None) -> str:
    """`learner_id` if this start may use it (tying an unbound key to it); else a ProtocolError."""
    if learner_key is None:
        if await asyncio.to_thread(keys.is_held, learner_id):
            raise _taken(learner_id)
        return learner_id
    key = await asyncio.to_thread(keys.find, learner_key)
    if key is None:
        raise ProtocolError("bad_learner_key", "that personal key is not known on this server; check it for typing "
                            "mistakes, or leave learner_key out (POST /api/learner-keys makes a new key)")
    try:
        key = await asyncio.to_thread(keys.bind, key.key_hash, learner_id)
    except LearnerIdTaken:
        raise _taken(learner_id) from None
    except KeyError:  # the key was deleted (with its learner's data) a moment ago
        raise ProtocolError("bad_learner_key", "that personal key was just deleted on this server; leave learner_key "
                            "out, or make a new key with POST /api/learner-keys") from None
    if key.learner_id != learner_id:
        raise ProtocolError("learner_key_mismatch", f"this personal key belongs to learner id '{key.learner_id}'; start "
                            "with that learner_id, or use another key")
    return learner_id

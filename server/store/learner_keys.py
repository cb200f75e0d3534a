"""Learner personal keys: one bearer key per learner, kept only as a SHA-256 digest.

A key is made on a learner's first visit, before they have typed a name, so it starts
unbound. The first session started with it ties it to the learner id used there; from then
on that id belongs to the key: sessions under it need the key, and the key reads exactly
the sessions started under it since that moment (`LearnerKeyRecord.owns`). Sessions stored
under the same name before the key was tied to it are not the key's: anyone could have typed
that name, so they stay with the educator only.
"""

from __future__ import annotations

import hmac

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from .base import LearnerIdTaken
from .records import LearnerKeyRecord
from .tables import LearnerKeyRow
from .times import now, utc
from .tokens import hash_token


def _record(row: LearnerKeyRow) -> LearnerKeyRecord:
    return LearnerKeyRecord(key_hash=row.key_hash, learner_id=row.learner_id, created_at=utc(row.created_at),
                            bound_at=utc(row.bound_at))


class SqlLearnerKeys:
    """The `learner_keys` table, on the session store's database (SqlSessionStore.learner_keys)."""

    def __init__(self, session: sessionmaker):
        self._session = session

    def create(self, key: str) -> LearnerKeyRecord:
        """Store a fresh key (from tokens.new_token) unbound; the caller shows it once."""
        row = LearnerKeyRow(key_hash=hash_token(key), learner_id=None, created_at=now(), bound_at=None)
        with self._session.begin() as s:
            s.add(row)
        return _record(row)

    def find(self, key: str | None) -> LearnerKeyRecord | None:
        """The key's record, or None. Looked up by digest, then compared in constant time as
        the session tokens are (tokens.token_matches)."""
        if not key:
            return None
        digest = hash_token(key)
        with self._session() as s:
            row = s.get(LearnerKeyRow, digest)
            if row is None or not hmac.compare_digest(row.key_hash, digest):
                return None
            return _record(row)

    def is_held(self, learner_id: str) -> bool:
        """Whether some key holds this learner id (then only that key may start sessions under it)."""
        with self._session() as s:
            return bool(s.scalar(select(exists().where(LearnerKeyRow.learner_id == learner_id))))

    def bind(self, key_hash: str, learner_id: str) -> LearnerKeyRecord:
        """Tie an unbound key to `learner_id`; a key already tied keeps its id (the caller
        compares). Raises LearnerIdTaken when another key holds the id."""
        try:
            with self._session.begin() as s:
                row = s.get(LearnerKeyRow, key_hash, with_for_update=True)
                if row is None:
                    raise KeyError(key_hash)
                if row.learner_id is None:
                    if s.scalar(select(exists().where(LearnerKeyRow.learner_id == learner_id))):
                        raise LearnerIdTaken(learner_id)
                    row.learner_id, row.bound_at = learner_id, now()
        except IntegrityError:  # another key took the id between the check and the commit
            raise LearnerIdTaken(learner_id) from None
        return _record(row)

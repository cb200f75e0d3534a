"""The test PostgreSQL: its URL (or a skip that says how to get one), and schemas of a test's own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.ci import unless_ci


def pg_url_or_skip() -> str:
    """The test PostgreSQL URL. Outside CI, without one, the test is skipped and says how to run
    it; in CI (where scripts/test.sh starts PostgreSQL) a missing URL is a failure, so a
    PostgreSQL that did not start fails the run."""
    url = os.environ.get("BEDSIDE_TEST_PG_URL")
    if not url:
        pytest.skip(unless_ci("BEDSIDE_TEST_PG_URL is not set: scripts/test.sh sets it once scripts/start_postgres.sh "
                              "has started PostgreSQL (its log is test-artifacts/postgres-start.log); runs under make test and always in CI"))
    return url


@contextmanager
def fresh_schema(pg_url: str, prefix: str) -> Iterator[str]:
    """A URL whose connections use a new, empty schema, dropped afterwards: tests sharing the test
    database see neither each other's rows nor an older layout of a table left by another run."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={name}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()

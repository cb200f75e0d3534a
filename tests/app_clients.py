"""In-process app clients for tests that build apps with their own settings, each closed with its
store when the test ends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient

from server.api.app import create_app
from server.config import Settings
from server.store.sql import open_store

EDUCATOR_TOKEN = "t" * 32


@contextmanager
def app_clients() -> Iterator[Callable[..., TestClient]]:
    """Yields `open_client(settings, engine, store=None)`; every client and store it opened is
    closed on exit."""
    opened: list[tuple[TestClient, object]] = []

    def open_client(s: Settings, engine, store=None) -> TestClient:
        store = store or open_store(s.resolved_database_url())
        client = TestClient(create_app(s, engine=engine, store=store, educator_token=EDUCATOR_TOKEN))
        opened.append((client, store))
        return client

    try:
        yield open_client
    finally:
        for client, store in opened:
            client.close()
            store.close()

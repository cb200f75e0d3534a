"""Routes other packages add to the HTTP API, through the entry-point group `bedside.api`.

Each entry names a FastAPI `APIRouter`. The educator's cohort report and downloads come this
way from eval/ (pyproject.toml), as its commands do (server/cli.py, add_plugin_commands), so
the server never imports eval/. A router that fails to load is logged and left out: learners
can still practise while the report is broken.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter

API_PLUGIN_GROUP = "bedside.api"
log = logging.getLogger(__name__)


def plugin_routers() -> list[APIRouter]:
    from importlib.metadata import entry_points

    routers = []
    for entry in entry_points(group=API_PLUGIN_GROUP):
        try:
            router = entry.load()
        except Exception:  # noqa: BLE001 - any failure of someone else's module
            log.exception("API routes %r (%s) could not be loaded; serving without them", entry.name, entry.value)
            continue
        if not isinstance(router, APIRouter):
            log.error("API routes %r (%s) are not a FastAPI APIRouter; serving without them", entry.name, entry.value)
            continue
        routers.append(router)
    return routers

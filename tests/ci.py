"""Skips that CI does not allow.

On a developer's machine a test whose prerequisite is missing (the PostgreSQL URL, the shared
data folder, espeak-ng, playwright) skips and says how to run it. CI (`CI` set, as `.ci/run`
does) installs every prerequisite, so there a missing one is a failure: a skip would hide a
broken set-up. `scripts/test.sh` runs pytest with `-rs`, which prints each skip's reason.

    pytest.skip(unless_ci("espeak-ng is not installed: ..."))

The skip is raised at the caller, so pytest reports the test's own line.
"""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    """True when `CI` is set to anything but an empty string, 0, false or no."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unless_ci(reason: str) -> str:
    """`reason`, for the caller's pytest.skip; in CI the test fails with it instead."""
    if in_ci():
        pytest.fail(f"CI must run this test, but {reason}", pytrace=False)
    return reason

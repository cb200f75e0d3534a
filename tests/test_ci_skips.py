"""tests/ci.py: a missing prerequisite skips on a developer's machine and fails in CI."""

from __future__ import annotations

import pytest

from tests.ci import in_ci, unless_ci


@pytest.mark.parametrize("value,ci", [(None, False), ("", False), ("0", False), ("false", False), ("No", False),
                                      ("true", True), ("1", True), ("yes", True), ("TRUE", True)])
def test_what_counts_as_ci(monkeypatch, value, ci):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert in_ci() is ci


def test_the_reason_is_a_skip_outside_ci_and_a_failure_in_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert unless_ci("no recording") == "no recording"
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run this test, but no recording"):
        unless_ci("no recording")

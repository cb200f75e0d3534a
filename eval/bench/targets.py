"""The targets a benchmark checks, so `make bench` fails when one is missed.

Each check prints one line, "target <name>: met" or "target <name>: MISSED (<figure>)", and a
benchmark returns `exit_code()`: 1 when any target was missed. `make bench` runs every
benchmark, then lists the ones that missed a target and fails.
"""

from __future__ import annotations


class Targets:
    def __init__(self) -> None:
        self.missed: list[str] = []

    def check(self, name: str, ok: bool, figure: str) -> bool:
        print(f"target {name}: {'met' if ok else 'MISSED'} ({figure})")
        if not ok:
            self.missed.append(name)
        return ok

    def exit_code(self) -> int:
        return 1 if self.missed else 0

"""A checker for the xAPI 1.0.3 statement rules Bedside's statements rely on.

Not a full conformance suite: it covers the structure an LRS rejects statements for
(required actor/verb/object, one inverse functional identifier per agent, IRI and UUID
forms, language maps, score bounds, extension keys, no nulls outside extensions) so the
tests can prove every exported statement would be accepted.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

STATEMENT_KEYS = {"id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority", "version",
                  "attachments"}
IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
CONTEXT_ACTIVITY_KEYS = {"parent", "grouping", "category", "other"}

_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.I)
_LANG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_DURATION = re.compile(r"^P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
                       r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$")
_TZ = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


def is_iri(v: Any) -> bool:
    return isinstance(v, str) and bool(_IRI.match(v))


def is_irl(v: Any) -> bool:
    """An IRI that can be dereferenced: http(s) with a host."""
    return is_iri(v) and bool(re.match(r"^https?://[^/\s]+", v))


def is_uuid(v: Any) -> bool:
    return isinstance(v, str) and bool(_UUID.match(v))


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    # -- building blocks -------------------------------------------------------------
    def no_nulls(self, value: Any, path: str) -> None:
        if value is None:
            self.fail(path, "null is only allowed inside extensions")
        elif isinstance(value, dict):
            for k, v in value.items():
                if k != "extensions":
                    self.no_nulls(v, f"{path}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.no_nulls(v, f"{path}[{i}]")

    def language_map(self, value: Any, path: str) -> None:
        if not isinstance(value, dict) or not value:
            self.fail(path, "must be a non-empty language map")
            return
        for k, v in value.items():
            if not _LANG.match(str(k)):
                self.fail(path, f"'{k}' is not an RFC 5646 language tag")
            if not isinstance(v, str):
                self.fail(f"{path}.{k}", "must be a string")

    def extensions(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            self.fail(path, "must be an object")
            return
        for k in value:
            if not is_iri(k):
                self.fail(path, f"extension key '{k}' is not an IRI")

    def agent(self, a: Any, path: str) -> None:
        if not isinstance(a, dict):
            self.fail(path, "must be an object")
            return
        if a.get("objectType", "Agent") not in ("Agent", "Group"):
            self.fail(f"{path}.objectType", "must be Agent or Group")
        ifis = [k for k in IFIS if k in a]
        if a.get("objectType") == "Group" and not ifis and "member" in a:
            return  # anonymous group
        if len(ifis) != 1:
            self.fail(path, f"must have exactly one of {', '.join(IFIS)} (has {len(ifis)})")
        if "mbox" in a and not str(a["mbox"]).startswith("mailto:"):
            self.fail(f"{path}.mbox", "must be a mailto: IRI")
        if "account" in a:
            acc = a["account"]
            if not isinstance(acc, dict):
                self.fail(f"{path}.account", "must be an object")
            else:
                if not is_irl(acc.get("homePage")):
                    self.fail(f"{path}.account.homePage", "must be an IRL (http or https URL)")
                if not isinstance(acc.get("name"), str) or not acc.get("name"):
                    self.fail(f"{path}.account.name", "must be a non-empty string")

    def activity(self, o: Any, path: str) -> None:
        if not isinstance(o, dict):
            self.fail(path, "must be an object")
            return
        if o.get("objectType", "Activity") != "Activity":
            self.fail(f"{path}.objectType", "must be Activity")
        if not is_iri(o.get("id")):
            self.fail(f"{path}.id", "must be an IRI")
        d = o.get("definition")
        if d is not None:
            for key in ("name", "description"):
                if key in d:
                    self.language_map(d[key], f"{path}.definition.{key}")
            if "type" in d and not is_iri(d["type"]):
                self.fail(f"{path}.definition.type", "must be an IRI")
            if "moreInfo" in d and not is_irl(d["moreInfo"]):
                self.fail(f"{path}.definition.moreInfo", "must be an IRL")
            if "extensions" in d:
                self.extensions(d["extensions"], f"{path}.definition.extensions")

    def score(self, s: Any, path: str) -> None:
        if not isinstance(s, dict):
            self.fail(path, "must be an object")
            return
        for k in s:
            if k not in ("scaled", "raw", "min", "max"):
                self.fail(path, f"unknown key '{k}'")
            elif not is_number(s[k]):
                self.fail(f"{path}.{k}", "must be a number")
        num = {k: v for k, v in s.items() if is_number(v)}
        if "scaled" in num and not -1 <= num["scaled"] <= 1:
            self.fail(f"{path}.scaled", "must be between -1 and 1")
        if "min" in num and "max" in num and not num["min"] < num["max"]:
            self.fail(path, "max must be greater than min")
        if "raw" in num and "min" in num and num["raw"] < num["min"]:
            self.fail(f"{path}.raw", "must not be below min")
        if "raw" in num and "max" in num and num["raw"] > num["max"]:
            self.fail(f"{path}.raw", "must not be above max")

    def result(self, r: Any, path: str) -> None:
        if not isinstance(r, dict):
            self.fail(path, "must be an object")
            return
        if "score" in r:
            self.score(r["score"], f"{path}.score")
        for key in ("success", "completion"):
            if key in r and not isinstance(r[key], bool):
                self.fail(f"{path}.{key}", "must be true or false")
        if "response" in r and not isinstance(r["response"], str):
            self.fail(f"{path}.response", "must be a string")
        if "duration" in r and not (isinstance(r["duration"], str) and _DURATION.match(r["duration"])):
            self.fail(f"{path}.duration", "must be an ISO 8601 duration")
        if "extensions" in r:
            self.extensions(r["extensions"], f"{path}.extensions")

    def context(self, c: Any, path: str, object_is_activity: bool) -> None:
        if not isinstance(c, dict):
            self.fail(path, "must be an object")
            return
        if "registration" in c and not is_uuid(c["registration"]):
            self.fail(f"{path}.registration", "must be a UUID")
        if "language" in c and not (isinstance(c["language"], str) and _LANG.match(c["language"])):
            self.fail(f"{path}.language", "must be an RFC 5646 language tag")
        for key in ("revision", "platform"):
            if key in c:
                if not isinstance(c[key], str):
                    self.fail(f"{path}.{key}", "must be a string")
                if not object_is_activity:
                    self.fail(f"{path}.{key}", "only allowed when the object is an Activity")
        if "contextActivities" in c:
            ca = c["contextActivities"]
            for key, acts in (ca.items() if isinstance(ca, dict) else []):
                if key not in CONTEXT_ACTIVITY_KEYS:
                    self.fail(f"{path}.contextActivities", f"unknown key '{key}'")
                for i, a in enumerate(acts if isinstance(acts, list) else [acts]):
                    self.activity(a, f"{path}.contextActivities.{key}[{i}]")
        if "instructor" in c:
            self.agent(c["instructor"], f"{path}.instructor")
        if "extensions" in c:
            self.extensions(c["extensions"], f"{path}.extensions")

    # -- the statement ---------------------------------------------------------------
    def statement(self, s: Any, path: str = "statement") -> None:
        if not isinstance(s, dict):
            self.fail(path, "must be a JSON object")
            return
        for k in s:
            if k not in STATEMENT_KEYS:
                self.fail(path, f"unknown property '{k}'")
        self.no_nulls(s, path)
        for k in ("actor", "verb", "object"):
            if k not in s:
                self.fail(path, f"missing required '{k}'")
        if "id" in s and not is_uuid(s["id"]):
            self.fail(f"{path}.id", "must be a UUID")
        if "actor" in s:
            self.agent(s["actor"], f"{path}.actor")
        verb = s.get("verb")
        if isinstance(verb, dict):
            if not is_iri(verb.get("id")):
                self.fail(f"{path}.verb.id", "must be an IRI")
            if "display" in verb:
                self.language_map(verb["display"], f"{path}.verb.display")
        elif verb is not None:
            self.fail(f"{path}.verb", "must be an object")
        obj = s.get("object")
        is_activity = isinstance(obj, dict) and obj.get("objectType", "Activity") == "Activity"
        if obj is not None:
            if is_activity:
                self.activity(obj, f"{path}.object")
            elif obj.get("objectType") in ("Agent", "Group"):
                self.agent(obj, f"{path}.object")
            elif obj.get("objectType") == "StatementRef":
                if not is_uuid(obj.get("id")):
                    self.fail(f"{path}.object.id", "must be a UUID")
            else:
                self.fail(f"{path}.object.objectType", f"unsupported '{obj.get('objectType')}'")
        if "result" in s:
            self.result(s["result"], f"{path}.result")
        if "context" in s:
            self.context(s["context"], f"{path}.context", is_activity)
        if "timestamp" in s:
            self.timestamp(s["timestamp"], f"{path}.timestamp")

    def timestamp(self, value: Any, path: str) -> None:
        ok = isinstance(value, str) and bool(_TZ.search(value))
        if ok:
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                ok = False
        if not ok:
            self.fail(path, "must be an ISO 8601 timestamp with a time zone")


def check_statement(statement: Any) -> list[str]:
    """Problems with one statement; empty when it is valid."""
    c = Checker()
    c.statement(statement)
    return c.problems


def check_statements(statements: list[Any]) -> list[str]:
    out = []
    for i, s in enumerate(statements):
        out += [f"[{i}] {p}" for p in check_statement(s)]
    return out

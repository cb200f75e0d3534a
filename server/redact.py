"""Database URLs as they may be shown: printed, logged or written into a report.

A PostgreSQL URL can carry its password (`user:secret@host`, or `?password=` for libpq);
terminals, CI logs and HTML reports are read by more people than the database's owner.
Only what is shown is redacted: the URL used to connect is never changed.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

HIDDEN = "***"
_QUERY_SECRETS = {"password", "passwd", "pwd", "sslpassword"}
# Fallback for text SQLAlchemy cannot parse: anything between "scheme://user:" and "@".
_USERINFO_PASSWORD = re.compile(r"(://[^:/@?#]*:)[^@/?#]*@")


def redact_url(url: str | None) -> str:
    """`url` with its password shown as ***; a URL without one is returned unchanged."""
    if not url:
        return ""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return _USERINFO_PASSWORD.sub(rf"\g<1>{HIDDEN}@", url)
    secrets = {k: HIDDEN for k in parsed.query if k.lower() in _QUERY_SECRETS}
    if parsed.password is None and not secrets:
        return url
    if secrets:
        parsed = parsed.update_query_dict(secrets)
    return parsed.render_as_string(hide_password=True).replace("%2A%2A%2A", HIDDEN)

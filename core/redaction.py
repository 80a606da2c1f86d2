"""Redaction: passwords, API keys and URL credentials stripped before text is logged, audited
or shown.

It lives apart from :mod:`core.security` (which re-exports it) because the audit log needs it and
security needs the accounts, which need the workspace, which opens the audit log: with redaction
inside security, those imports made a cycle.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

_SECRET_KEY = re.compile(
    r"(^|[_.-])(password|passwd|pwd|secret|token|api_?key|apikey|authorization|http_auth|"
    r"basic_auth|bearer_auth|credentials?)$",
    re.IGNORECASE,
)
_URL_USERINFO = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*):[^@/\s]*@", re.IGNORECASE)
_AUTH_HEADER = re.compile(r"\b(?P<kind>ApiKey|Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{6,}")
REDACTED = "***"


def secret_forms(secrets: Iterable[str], username: str = "") -> list[str]:
    """The secrets and the encodings they travel in (base64 of ``user:password`` for Basic)."""
    out: list[str] = []
    for s in secrets:
        if not s or len(s) < 4:
            continue
        out.append(s)
        out.append(base64.b64encode(s.encode()).decode())
        if username:
            out.append(base64.b64encode(f"{username}:{s}".encode()).decode())
    return sorted(set(out), key=len, reverse=True)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without URL credentials, Authorization header values and the given secrets."""
    text = _URL_USERINFO.sub(lambda m: f"{m['head']}:{REDACTED}@", text)
    text = _AUTH_HEADER.sub(lambda m: f"{m['kind']} {REDACTED}", text)
    for s in secrets:
        if s:
            text = text.replace(s, REDACTED)
    return text


def redact_mapping(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of ``value`` (dicts, lists, strings) with secret-named keys and secrets masked."""
    secrets = list(secrets)
    if isinstance(value, Mapping):
        return {
            k: (
                REDACTED
                if isinstance(k, str) and _SECRET_KEY.search(k) and v
                else redact_mapping(v, secrets)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_mapping(v, secrets) for v in value]
    if isinstance(value, str):
        return redact(value, secrets)
    return value


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in every record passing a handler.

    ``main.py`` (the only place that configures logging) attaches it to its handlers; pass the
    secrets the process knows (e.g. :func:`workspace_secrets`).
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = list(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message, self.secrets)
        if record.exc_info and record.exc_info[1] is not None:
            import traceback

            clean += (
                "\n"
                + redact(
                    "".join(traceback.format_exception(*record.exc_info)), self.secrets
                ).rstrip()
            )
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = clean, None
        return True

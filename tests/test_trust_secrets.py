"""No secrets in logs, error messages or the audit: a failing Elasticsearch connection made with
a password or an API key says what failed and where, never the credential."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from core.ingest import Ingestor
from core.security import (
    REDACTED,
    RedactingFilter,
    SecurityError,
    redact,
    redact_mapping,
    secret_forms,
    transport_problem,
)
from core.users import add_user, set_es_credentials
from core.workspace import CONFIG_NAME, Workspace
from plugins.mapping import MappingSource, parse_mapping

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "Hunter2-Secret-pw"
API_KEY = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the with-block ends


def _es_workspace(root: Path, **search: str) -> Workspace:
    ws = Workspace.init(root, backend="elasticsearch", url=f"http://127.0.0.1:{_closed_port()}")
    config = ws.root / CONFIG_NAME
    text = config.read_text("utf-8")
    for key, value in search.items():
        assert f'{key} = ""' in text
        text = text.replace(f'{key} = ""', f'{key} = "{value}"')
    config.write_text(text, "utf-8")
    opened = Workspace.open(ws.root)
    assert opened.search_config.backend == "elasticsearch"
    return opened


def _everything_written(ws: Workspace, *texts: str) -> str:
    files = [ws.audit_path, *ws.search_dir.glob("*"), *ws.rejects_dir.glob("*")]
    return "\n".join([*texts, *(p.read_text("utf-8", "replace") for p in files if p.is_file())])


@pytest.mark.parametrize(
    "creds",
    [{"username": "elastic", "password": PASSWORD}, {"api_key": API_KEY}],
    ids=["basic", "api_key"],
)
def test_unreachable_cluster_with_credentials_leaks_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, creds: dict[str, str]
) -> None:
    pytest.importorskip("search.elastic", reason="search/ (issue 3) not installed")
    secret = creds.get("password") or creds["api_key"]
    ws = _es_workspace(tmp_path / "ws", **creds)
    caplog.set_level(logging.DEBUG)  # every logger, the Elasticsearch client's included
    source = MappingSource(
        parse_mapping(
            {"source": {"name": "notes", "id": ["id"]}, "fields": {"body": "text"}}, "test"
        )
    )
    data = tmp_path / "n.csv"
    data.write_text("id,body\n1,hello\n2,世界\n", encoding="utf-8")
    report = Ingestor(ws).ingest_file(source, data)  # search stage fails, the store keeps rows
    assert report.status == "done" and ws.store.count() == 2
    env = {**os.environ, "SUPERBRAIN_USER": "tester"}
    runs = [
        subprocess.run(
            [sys.executable, "main.py", *args, "-w", str(ws.root)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        for args in (["search", "hello"], ["search-health"], ["-v", "search", "世界"])
    ]
    last = runs[0].stderr.strip().splitlines()[-1]
    assert runs[0].returncode != 0 and last.startswith("error:")  # a clear error ...
    assert "unreachable" in last and "127.0.0.1" in last
    written = _everything_written(ws, caplog.text, *(r.stdout + r.stderr for r in runs))
    for form in secret_forms([secret], creds.get("username", "")):
        assert form not in written  # ... that never shows the credential


def test_credentials_inside_the_url_leak_nothing(tmp_path: Path) -> None:
    elastic = pytest.importorskip("search.elastic", reason="search/ (issue 3) not installed")
    from core.workspace import SearchConfig
    from search.document import FieldRegistry

    url = f"http://elastic:{PASSWORD}@127.0.0.1:{_closed_port()}"
    backend = elastic.ElasticsearchBackend.from_config(
        SearchConfig("elasticsearch", url, "", "", "", "", "leak"), FieldRegistry.from_schemas([])
    )
    health = backend.health()
    assert PASSWORD not in health.message and PASSWORD not in str(health.detail)
    from search.errors import SearchError
    from search.model import SearchRequest

    with pytest.raises(SearchError) as info:  # regression: this once leaked (fixed in search/)
        backend.search(SearchRequest("x"))
    assert PASSWORD not in str(info.value) and "127.0.0.1" in str(info.value)


def test_redaction_helpers() -> None:
    text = (
        f"GET https://elastic:{PASSWORD}@es.local:9200/_bulk Authorization: ApiKey {API_KEY} "
        f"and Basic ZWxhc3RpYzpIdW50ZXIy and the raw {PASSWORD}"
    )
    clean = redact(text, secret_forms([PASSWORD]))
    assert PASSWORD not in clean and API_KEY not in clean and "ZWxhc3RpYzpIdW50ZXIy" not in clean
    assert "https://elastic:***@es.local:9200/_bulk" in clean
    nested = redact_mapping(
        {
            "es": {"password": PASSWORD, "user": "elastic"},
            "headers": [{"authorization": "x"}],
            "api_key": "",
            "password_hash": "kept",
        }
    )
    assert nested == {
        "es": {"password": REDACTED, "user": "elastic"},
        "headers": [{"authorization": REDACTED}],
        "api_key": "",
        "password_hash": "kept",
    }


def test_redacting_log_filter_masks_messages_and_tracebacks() -> None:
    logger = logging.getLogger("trust.redaction.test")
    stream_lines: list[str] = []

    class ListHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            stream_lines.append(self.format(record))

    handler = ListHandler()
    handler.addFilter(RedactingFilter(secret_forms([PASSWORD])))
    logger.addHandler(handler)
    try:
        logger.error("connecting with %s", PASSWORD)
        try:
            raise ConnectionError(f"refused for elastic:{PASSWORD}")
        except ConnectionError:
            logger.exception("bulk failed")
    finally:
        logger.removeHandler(handler)
    assert stream_lines and not any(PASSWORD in line for line in stream_lines)
    assert "refused for elastic:***" in stream_lines[1]


def test_cleartext_transport_of_credentials_is_refused(workspace: Workspace) -> None:
    assert transport_problem("http://127.0.0.1:9200") is None
    assert transport_problem("https://es.police.local:9200") is None
    assert "plain HTTP" in (transport_problem("http://es.police.local:9200") or "")
    assert "not a file" in (transport_problem("https://es:9200", "/nonexistent/ca.pem") or "")
    # per-user cluster credentials apply at login, and never over plain HTTP to another host
    config = workspace.root / CONFIG_NAME
    config.write_text(
        config.read_text("utf-8")
        .replace("backend = 'embedded'", "backend = 'elasticsearch'")
        .replace("http://127.0.0.1:9200", "http://es.police.local:9200"),
        "utf-8",
    )
    ws = Workspace.open(workspace.root)
    assert ws.search_config.backend == "elasticsearch"
    add_user(ws, "root", "administrator", "top-Falcon-72x")
    ws.login("root", "top-Falcon-72x")
    set_es_credentials(ws, "root", api_key=API_KEY)
    assert API_KEY not in ws.audit_path.read_text("utf-8")
    with pytest.raises(SecurityError, match="plain HTTP"):
        Workspace.open(ws.root).login("root", "top-Falcon-72x")
    config.write_text(
        config.read_text("utf-8").replace("http://es.police", "https://es.police"), "utf-8"
    )
    again = Workspace.open(ws.root)
    again.login("root", "top-Falcon-72x")
    assert again.search_config.api_key == API_KEY

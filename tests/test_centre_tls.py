"""TLS: the centre server speaks HTTPS with its configured certificate and refuses plain HTTP
except on loopback; `superbrain centre cert` makes a self-signed pair for trials."""

from __future__ import annotations

import http.client
import ssl
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from centre_support import (
    ServerProcess,
    api,
    free_port,
    fresh_database,
    init_centre,
    pg_server_url,
    run_cli,
    write_centre,
)

from centre.config import load_centre_config
from core.errors import WorkspaceError
from server.config import load_server_config

pytestmark = pytest.mark.timeout(300)


def _config(tmp_path: Path, **server: object) -> Path:
    return write_centre(tmp_path, "postgresql://nobody@127.0.0.1:1/none", server=server)


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "centre.example", "::"])
def test_plain_http_is_refused_off_loopback(tmp_path: Path, host: str) -> None:
    with pytest.raises(WorkspaceError, match="refusing plain HTTP"):
        load_server_config(load_centre_config(_config(tmp_path, host=host)))
    out = run_cli("serve", "--config", str(_config(tmp_path, host=host)))
    assert out.returncode == 2 and "refusing plain HTTP" in out.stderr, out.stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_plain_http_is_allowed_on_loopback(tmp_path: Path, host: str) -> None:
    cfg = load_server_config(load_centre_config(_config(tmp_path, host=host)))
    assert not cfg.tls and cfg.url.startswith("http://")


def test_certificate_and_key_come_together_and_must_exist(tmp_path: Path) -> None:
    (tmp_path / "c.pem").write_text("not checked here")
    with pytest.raises(WorkspaceError, match="both certificate and private_key"):
        load_server_config(load_centre_config(_config(tmp_path, certificate="c.pem")))
    with pytest.raises(WorkspaceError, match="is not a file"):
        load_server_config(
            load_centre_config(_config(tmp_path, certificate="c.pem", private_key="missing.pem"))
        )


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    gen = fresh_database(pg_server_url())
    database = next(gen)
    folder = tmp_path_factory.mktemp("tls")
    out = run_cli("centre", "cert", "--out", str(folder / "tls"), "--host", "127.0.0.1")
    assert out.returncode == 0, out.stderr
    config = write_centre(
        folder,
        database,
        server={"host": "0.0.0.0", "certificate": "tls/cert.pem", "private_key": "tls/key.pem"},
    )
    init_centre(config, "admin", "Heron-Lantern-71")
    server = ServerProcess(config, free_port(), scheme="https", ca=folder / "tls" / "cert.pem")
    server.start()
    try:
        yield server
    finally:
        server.stop()
        gen.close()


def test_the_key_is_private(https_server: ServerProcess) -> None:
    key = https_server.config.parent / "tls" / "key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_https_with_the_configured_certificate(https_server: ServerProcess) -> None:
    status, body = api(
        https_server,
        "POST",
        "/api/v1/session",
        body={"user": "admin", "password": "Heron-Lantern-71"},
    )
    assert status == 200 and body["role"] == "administrator"
    status, health = api(https_server, "GET", "/api/v1/health", token=body["token"])
    assert status == 200 and health["store"]["status"] == "green"


def test_a_client_that_does_not_trust_the_certificate_is_stopped(
    https_server: ServerProcess,
) -> None:
    con = http.client.HTTPSConnection(
        "127.0.0.1", https_server.port, timeout=10, context=ssl.create_default_context()
    )
    with pytest.raises(ssl.SSLCertVerificationError):
        con.request("GET", "/api/v1/health")
    con.close()


def test_plain_http_to_the_https_port_gets_no_answer(https_server: ServerProcess) -> None:
    con = http.client.HTTPConnection("127.0.0.1", https_server.port, timeout=10)
    try:
        con.request("POST", "/api/v1/session", body=b'{"user":"admin","password":"x"}')
        response = con.getresponse()
        status = response.status
    except (OSError, http.client.HTTPException):
        status = None
    finally:
        con.close()
    assert status is None or status == 400, status


def test_a_config_holding_secrets_readable_by_others_is_flagged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_centre(tmp_path, "postgresql://sb:s3cret@127.0.0.1:1/sb")
    config.chmod(0o644)
    with caplog.at_level("WARNING", logger="centre.config"):
        load_centre_config(config)
    assert "holds secrets ([database] url)" in caplog.text
    assert "s3cret" not in caplog.text
    caplog.clear()
    config.chmod(0o600)
    with caplog.at_level("WARNING", logger="centre.config"):
        load_centre_config(config)
    assert caplog.text == ""

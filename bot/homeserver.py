"""An embedded Synapse homeserver on loopback, for `oasis-bot demo`, the end-to-end tests
and the benchmarks. Synapse comes from PyPI (`pip install "oasis-bot[demo]"`); its data
(SQLite, media, keys, log) stays in one folder."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Limits high enough that tests and the demo never wait on them; the rate-limit tests
# choose their own.
RELAXED_LIMITS: dict[str, Any] = {
    "rc_message": {"per_second": 1000, "burst_count": 1000},
    "rc_registration": {"per_second": 1000, "burst_count": 1000},
    "rc_login": {
        "address": {"per_second": 1000, "burst_count": 1000},
        "account": {"per_second": 1000, "burst_count": 1000},
        "failed_attempts": {"per_second": 1000, "burst_count": 1000},
    },
    "rc_joins": {
        "local": {"per_second": 1000, "burst_count": 1000},
        "remote": {"per_second": 1000, "burst_count": 1000},
    },
    "rc_joins_per_room": {"per_second": 1000, "burst_count": 1000},
    "rc_invites": {
        "per_room": {"per_second": 1000, "burst_count": 1000},
        "per_user": {"per_second": 1000, "burst_count": 1000},
        "per_issuer": {"per_second": 1000, "burst_count": 1000},
    },
    "rc_3pid_validation": {"per_second": 1000, "burst_count": 1000},
    "rc_admin_redaction": {"per_second": 1000, "burst_count": 1000},
    "rc_presence": {"per_user": {"per_second": 1000, "burst_count": 1000}},
    "rc_room_creation": {"per_second": 1000, "burst_count": 1000},
    "rc_media_create": {"per_second": 1000, "burst_count": 1000},
    "rc_delayed_event_mgmt": {"per_second": 1000, "burst_count": 1000},
    "rc_reports": {"per_second": 1000, "burst_count": 1000},
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def synapse_available() -> bool:
    try:
        import synapse  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class Account:
    user_id: str
    password: str
    access_token: str
    device_id: str


class EmbeddedSynapse:
    """One Synapse process with its data in `data_dir`. `start()` generates the config on
    the first run and reuses it afterwards (same port, same accounts)."""

    def __init__(
        self,
        data_dir: Path,
        *,
        server_name: str = "localhost",
        port: int | None = None,
        rate_limits: dict[str, Any] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.server_name = server_name
        self.config_path = self.data_dir / "homeserver.yaml"
        self._port = port
        self.rate_limits = RELAXED_LIMITS if rate_limits is None else rate_limits
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def port(self) -> int:
        assert self._port is not None
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- configuration ------------------------------------------------------------
    def ensure_config(self) -> None:
        import yaml  # a dependency of Synapse

        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.config_path.exists():
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "synapse.app.homeserver",
                    "--server-name",
                    self.server_name,
                    "--config-path",
                    str(self.config_path),
                    "--data-directory",
                    str(self.data_dir),
                    "--generate-config",
                    "--report-stats=no",
                ],
                check=True,
                cwd=self.data_dir,
                capture_output=True,
            )
        config = yaml.safe_load(self.config_path.read_text())
        if self._port is None:
            existing = (config.get("listeners") or [{}])[0].get("port")
            self._port = existing if existing and existing != 8008 and _port_free(existing) else free_port()
        config["listeners"] = [
            {
                "port": self.port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ]
        config.update(
            {
                "public_baseurl": self.url + "/",
                "trusted_key_servers": [],
                "suppress_key_server_warning": True,
                "report_stats": False,
                "enable_registration": False,
                "presence": {"enabled": False},
                "url_preview_enabled": False,
                "enable_metrics": False,
                "federation_domain_whitelist": [],
                "log_config": str(self._log_config()),
                **self.rate_limits,
            }
        )
        if not config.get("registration_shared_secret"):
            config["registration_shared_secret"] = secrets.token_urlsafe(32)
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False))

    def _log_config(self) -> Path:
        path = self.data_dir / "log.yaml"
        path.write_text(
            "version: 1\n"
            "formatters:\n  plain:\n    format: '%(asctime)s %(levelname)s %(name)s %(message)s'\n"
            "handlers:\n  file:\n    class: logging.FileHandler\n"
            f"    filename: {self.data_dir / 'homeserver.log'}\n    formatter: plain\n"
            "root:\n  level: WARNING\n  handlers: [file]\n"
            "disable_existing_loggers: false\n"
        )
        return path

    @property
    def shared_secret(self) -> str:
        import yaml

        return str(yaml.safe_load(self.config_path.read_text())["registration_shared_secret"])

    # --- process --------------------------------------------------------------------
    async def start(self, timeout: float = 60) -> None:
        self.ensure_config()
        out = (self.data_dir / "stdout.log").open("ab")
        self.process = subprocess.Popen(  # noqa: ASYNC220 (starts it, does not wait)
            [sys.executable, "-m", "synapse.app.homeserver", "--config-path", str(self.config_path)],
            cwd=self.data_dir,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in a terminal reaches us, we stop Synapse
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"Synapse exited with code {self.process.returncode}; see {self.data_dir}/stdout.log"
                )
            if await asyncio.to_thread(self._healthy):
                log.info("Synapse up at %s", self.url)
                return
            await asyncio.sleep(0.2)
        await self.stop()
        raise TimeoutError(f"Synapse did not answer /health within {timeout} s")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                return bool(r.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    async def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        for _ in range(100):
            if proc.poll() is not None:
                return
            await asyncio.sleep(0.1)
        proc.kill()
        with contextlib.suppress(Exception):
            proc.wait(timeout=5)

    def rss_mb(self) -> float | None:
        if self.process is None:
            return None
        return process_rss_mb(self.process.pid)

    # --- accounts ---------------------------------------------------------------------
    def register(
        self, username: str, password: str, *, admin: bool = False, displayname: str | None = None
    ) -> Account:
        """Create an account through the shared-secret admin API (no registration open)."""
        url = self.url + "/_synapse/admin/v1/register"
        nonce = _http_json("GET", url)["nonce"]
        mac = hmac.new(self.shared_secret.encode(), digestmod=hashlib.sha1)
        mac.update(
            b"\x00".join(
                [nonce.encode(), username.encode(), password.encode(), b"admin" if admin else b"notadmin"]
            )
        )
        body = {
            "nonce": nonce,
            "username": username,
            "password": password,
            "admin": admin,
            "mac": mac.hexdigest(),
        }
        if displayname:
            body["displayname"] = displayname
        data = _http_json("POST", url, body)
        return Account(data["user_id"], password, data["access_token"], data["device_id"])

    def login(self, username: str, password: str) -> Account:
        data = _http_json(
            "POST",
            self.url + "/_matrix/client/v3/login",
            {
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": username},
                "password": password,
            },
        )
        return Account(data["user_id"], password, data["access_token"], data["device_id"])


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _http_json(method: str, url: str, body: Any = None, token: str | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"{}")


def process_rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process (this one by default), from /proc."""
    path = Path(f"/proc/{pid or os.getpid()}/status")
    for line in path.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0

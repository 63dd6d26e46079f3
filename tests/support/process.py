"""The bot as operators run it — `oasis-bot run --config …` in its own process — for the
tests that kill it (`kill -9`), run two of them on one database, or cut what it depends
on. Its health endpoint tells the test when it is active; its log is kept in a file."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bot.homeserver import Account, EmbeddedSynapse, free_port
from tests.support.network import network_of


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def toml_text(sections: dict[str, dict[str, Any]]) -> str:
    lines: list[str] = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {toml_value(v)}" for key, v in values.items()]
        lines.append("")
    return "\n".join(lines)


class BotProcess:
    """One `oasis-bot run` process. `start()` again after `kill()` or `stop()` restarts
    it on the same configuration (same account, same database)."""

    def __init__(
        self,
        hs: EmbeddedSynapse,
        account: Account,
        db_url: str,
        folder: Path,
        *,
        name: str = "bot",
        **sections: dict[str, Any],
    ) -> None:
        self.hs = hs
        self.account = account
        self.user_id = account.user_id
        self.db_url = db_url
        self.name = name
        self.folder = folder
        self.port = free_port()
        self.config_path = folder / f"{name}.toml"
        self.log_path = folder / f"{name}.log"
        self.sections = sections
        self.process: subprocess.Popen[bytes] | None = None
        self.network = self._network()
        self.write_config()

    def _network(self) -> dict[str, Any]:
        """`[bot] rooms`: the test's own, or the homeserver's network space (joined now,
        blocking, before the bot runs). A homeserver the harness cannot administer (one
        that is down, a proxy's front) gets a room of no one: that bot serves nothing."""
        if "rooms" in self.sections.get("bot", {}):
            return {}
        try:
            network = network_of(self.hs)
            network.admit(self.account)
        except (OSError, ValueError, KeyError):  # unreachable, or no admin secret here
            return {"rooms": ["!no-network:localhost"]}
        return network.rooms_config()

    def write_config(self) -> None:
        config: dict[str, dict[str, Any]] = {
            "matrix": {"homeserver": self.hs.url, "user_id": self.user_id, "password": self.account.password},
            "database": {"url": self.db_url},
            "bot": dict(self.network),
            "invites": {"allow": ["localhost"]},
            "logging": {"level": "INFO"},
            "monitoring": {"listen": f"127.0.0.1:{self.port}"},
            "accueil": {"enabled": False},
        }
        for name, values in self.sections.items():
            config.setdefault(name, {}).update(values)
        self.config_path.write_text(toml_text(config))

    def start(self) -> None:
        log = self.log_path.open("ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(self.config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        log.close()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """`kill -9`: no chance to finish anything."""
        if self.alive():
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    async def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM, as systemd does; the exit code."""
        proc = self.process
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while proc.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            if proc.poll() is None:
                proc.kill()
        return proc.wait(timeout=10)

    def health(self) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=3) as r:
                return dict(json.loads(r.read()))
        except urllib.error.HTTPError as err:
            with contextlib.suppress(Exception):
                return dict(json.loads(err.read()))
            return None
        except OSError:
            return None

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=3) as r:
            return str(r.read().decode())

    async def wait_role(self, role: str, timeout: float = 60, *, ready: bool | None = None) -> float:
        """Wait until /healthz reports `role` (and `ready`); returns the seconds waited."""
        started = time.monotonic()
        h: dict[str, Any] | None = None
        want_ready = (role == "active") if ready is None else ready
        while time.monotonic() - started < timeout:
            if not self.alive():
                code = self.process and self.process.returncode
                raise AssertionError(f"{self.name} exited ({code}):\n{self.log()}")
            h = await asyncio.to_thread(self.health)
            if h is not None and h.get("role") == role and (h.get("ready") or not want_ready):
                return time.monotonic() - started
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} not {role} within {timeout} s; health: {h}\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

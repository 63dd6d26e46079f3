"""`deploy/`: the systemd unit, the container file and the compose example are checked for
syntax and for agreeing with the code (not built: no registry here)."""

from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.cli import EXIT_ALREADY_RUNNING, build_parser

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "oasis-bot.service")
    return parser


def test_systemd_unit_runs_the_bot_and_restarts_it_sensibly() -> None:
    u = unit()
    assert u.sections() == ["Unit", "Service", "Install"]
    service = u["Service"]
    command = service["ExecStart"].split()
    assert command[0].endswith("/oasis-bot") and command[1:3] == ["run", "--config"]
    build_parser().parse_args(command[1:])  # the CLI accepts it
    assert service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"] == str(EXIT_ALREADY_RUNNING)
    # Long enough for the stop the app does (the command in hand 20 s, the outbox 5 s).
    assert int(service["TimeoutStopSec"]) >= 30
    assert u["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_finds_nothing_to_say(tmp_path: Path) -> None:
    # The paths and the user exist only on a server: check the syntax with stand-ins.
    text = (DEPLOY / "oasis-bot.service").read_text()
    text = re.sub(r"^ExecStart=.*$", "ExecStart=/bin/true", text, flags=re.M)
    text = re.sub(r"^(User|Group)=.*$", r"\1=root", text, flags=re.M)
    copy = tmp_path / "oasis-bot.service"
    copy.write_text(text)
    done = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert done.stderr.strip() == "" and done.returncode == 0, done.stderr


INSTRUCTIONS = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER",
    "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
}  # fmt: skip


def instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Containerfile").read_text()
    logical = re.sub(r"\\\n", " ", text)
    out = []
    for line in logical.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word, rest.strip()))
    return out


def test_container_file_syntax_and_what_it_copies() -> None:
    steps = instructions()
    assert steps[0][0] == "FROM"
    for word, rest in steps:
        assert word in INSTRUCTIONS, word
        if rest.startswith("["):  # exec form: a JSON array
            assert isinstance(
                json.loads(rest.split("CMD", 1)[-1].strip() if word == "HEALTHCHECK" else rest), list
            )
    for word, rest in steps:
        if word == "COPY" and not rest.startswith("--from"):
            for source in rest.split()[:-1]:
                assert (ROOT / source).exists(), source
    entry = json.loads(dict(steps)["ENTRYPOINT"])
    cmd = json.loads(dict(steps)["CMD"])
    assert entry == ["oasis-bot"]
    build_parser().parse_args(cmd)
    assert ("USER", "oasis-bot") in steps  # not root
    # Every package the wheel needs is copied in.
    packages = re.findall(r'"(\w+)\*"', (ROOT / "pyproject.toml").read_text().split("packages.find", 1)[1])
    copied = {rest.split()[0] for word, rest in steps if word == "COPY"}
    assert set(packages) <= copied


def test_compose_example() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "bot", "bot-standby", "synapse"} <= set(services)
    for name in ("bot", "bot-standby"):
        bot = services[name]
        assert bot["build"]["dockerfile"] == "deploy/Containerfile"
        assert (DEPLOY / bot["build"]["context"] / bot["build"]["dockerfile"]).resolve().exists()
        assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert bot["environment"]["OASIS_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert bot["volumes"] == ["./config.toml:/etc/oasis-bot/config.toml:ro"]
    assert services["bot-standby"]["profiles"] == ["standby"]
    assert services["synapse"]["profiles"] == ["synapse"]
    assert "healthcheck" in services["postgres"]
    assert set(compose["volumes"]) == {"pgdata", "synapse-data"}

"""Configuration: a TOML file validated by pydantic, secrets from the environment.

Each feature declares its own section with `config_section("signaux")` beside its code;
`Config.section(Model)` returns it validated. `check-config` reports every problem with
its key and how to fix it, in French (messages from the catalog, keyed by error type)."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from bot.i18n import LOCALES

USER_ID = re.compile(r"^@[^:\s]+:[^\s]+$")
# `!opaque:server`, or `!opaque` alone in room version 12 (the ID is a hash of the create
# event), the default on recent Synapse. Aliases (`#name:server`) are not room IDs: the bot
# compares these with the IDs of the rooms it is in.
ROOM_ID = re.compile(r"^![^:\s]+(?::[^\s]+)?$")

# Environment variables that override a key (secrets stay out of the file).
ENV_OVERRIDES = {
    "OASIS_MATRIX_PASSWORD": ("matrix", "password"),
    "OASIS_MATRIX_ACCESS_TOKEN": ("matrix", "access_token"),
    "OASIS_MATRIX_HOMESERVER": ("matrix", "homeserver"),
    "OASIS_MATRIX_USER_ID": ("matrix", "user_id"),
    "OASIS_DATABASE_URL": ("database", "url"),
}


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    section_name: ClassVar[str] = ""


S = TypeVar("S", bound=Section)
_sections: dict[str, type[Section]] = {}


def config_section(name: str) -> Any:
    """Class decorator: declare `[name]` as a config section validated by this model."""

    def register(model: type[S]) -> type[S]:
        model.section_name = name
        _sections[name] = model
        return model

    return register


def registered_sections() -> dict[str, type[Section]]:
    return dict(_sections)


def user_ids(values: list[str]) -> list[str]:
    """Validate a config list of Matrix user ids (features' sections use it too)."""
    for v in values:
        if not USER_ID.match(v):
            raise PydanticCustomError("user_id", "not a Matrix user id: {value}", {"value": v})
    return values


def room_ids(values: list[str]) -> list[str]:
    """Validate a config list of room ids (« !abc:server »)."""
    for r in values:
        if not ROOM_ID.match(r):
            raise PydanticCustomError("room_id", "not a room id: {value}", {"value": r})
    return values


class MatrixSettings(Section):
    homeserver: str = Field(description="URL of the homeserver")
    user_id: str
    password: SecretStr | None = None
    access_token: SecretStr | None = None
    device_name: str = "oasis-bot"
    # Where the access token and device id are kept between runs (the database).

    @field_validator("homeserver")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+", v):
            raise PydanticCustomError("url", "not an http(s) URL: {value}", {"value": v})
        return v.rstrip("/")

    @field_validator("user_id")
    @classmethod
    def _user(cls, v: str) -> str:
        if not USER_ID.match(v):
            raise PydanticCustomError("user_id", "not a Matrix user id: {value}", {"value": v})
        return v


class BotSettings(Section):
    network_name: str = "OASIS"
    language: str = "fr"
    timezone: str = "Europe/Paris"
    prefixes: list[str] = ["!", "/"]
    admins: list[str] = []
    animators: list[str] = []
    animator_power_level: int = Field(default=50, le=100)
    # The network: its rooms' ids, or a space's id standing for the rooms it lists.
    # Required (`parse_config` says what to write): roles come from these rooms only.
    rooms: list[str] = []
    max_concurrent_commands: int = Field(default=8, ge=1, le=64)

    @field_validator("language")
    @classmethod
    def _language(cls, v: str) -> str:
        if v not in LOCALES:
            raise PydanticCustomError(
                "language", "unknown language {value}", {"value": v, "choices": ", ".join(LOCALES)}
            )
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError("timezone", "unknown time zone {value}", {"value": v}) from None
        return v

    @field_validator("prefixes")
    @classmethod
    def _prefixes(cls, v: list[str]) -> list[str]:
        if not v or any(not p or p.isalnum() or " " in p for p in v):
            raise PydanticCustomError("prefixes", "bad prefixes {value}", {"value": v})
        return v

    @field_validator("admins", "animators")
    @classmethod
    def _ids(cls, v: list[str]) -> list[str]:
        return user_ids(v)

    @field_validator("animator_power_level")
    @classmethod
    def _animator_level(cls, v: int) -> int:
        if v < 1:  # every member has level 0: all of them would be animators
            raise PydanticCustomError("animator_power_level", "must be at least 1: {value}", {"value": v})
        return v

    @field_validator("rooms")
    @classmethod
    def _rooms(cls, v: list[str]) -> list[str]:
        return room_ids(v)


class InviteSettings(Section):
    # Who else may invite the bot: Matrix user ids (@a:b), server names (b), or "*".
    # Always: anyone into the network's rooms, the admins anywhere, and anyone on the
    # bot's own server into a direct chat.
    allow: list[str] = []
    # A room outside the network: "answer" (joined, one polite answer, then silence) or
    # "leave" (the invitation is declined).
    outside: Literal["answer", "leave"] = "answer"


class DatabaseSettings(Section):
    url: str = "sqlite+aiosqlite:///oasis-bot.db"

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^(sqlite|postgresql|postgres)(\+\w+)?://", v):
            raise PydanticCustomError("database_url", "unsupported database {value}", {"value": v})
        return v


class LoggingSettings(Section):
    level: str = "INFO"
    format: Literal["text", "json"] = "text"

    @field_validator("level")
    @classmethod
    def _level(cls, v: str) -> str:
        if v.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise PydanticCustomError("log_level", "bad level {value}", {"value": v})
        return v.upper()


class MonitoringSettings(Section):
    # `host:port` of the local HTTP endpoint (/healthz, /metrics); empty: none.
    listen: str = ""

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: str) -> str:
        if v and not re.match(r"^(\[[0-9a-fA-F:]+\]|[\w.-]+):\d{1,5}$", v):
            raise PydanticCustomError("listen", "not host:port: {value}", {"value": v})
        return v


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    matrix: MatrixSettings
    bot: BotSettings = BotSettings()
    invites: InviteSettings = InviteSettings()
    database: DatabaseSettings = DatabaseSettings()
    logging: LoggingSettings = LoggingSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    # Feature sections, validated by their registered models.
    features: dict[str, Any] = {}

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.bot.timezone)

    def section(self, model: type[S]) -> S:
        raw = self.features.get(model.section_name, {})
        return model.model_validate(raw)

    @property
    def server_name(self) -> str:
        return self.matrix.user_id.split(":", 1)[1]


CORE_SECTIONS = ("matrix", "bot", "invites", "database", "logging", "monitoring")


@dataclass
class ConfigProblem:
    key: str
    error_type: str
    message: str  # pydantic's English message, used when the catalog has no entry
    context: dict[str, Any]


class ConfigError(Exception):
    def __init__(self, problems: list[ConfigProblem]) -> None:
        super().__init__("; ".join(f"{p.key}: {p.message}" for p in problems))
        self.problems = problems


def apply_env(data: dict[str, Any], environ: dict[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if environ is None else environ
    for var, (section, key) in ENV_OVERRIDES.items():
        if env.get(var):
            data.setdefault(section, {})[key] = env[var]
    return data


def parse_config(data: dict[str, Any]) -> Config:
    """Validate a config mapping; raises ConfigError listing every problem."""
    core = {k: v for k, v in data.items() if k in CORE_SECTIONS}
    features = {k: v for k, v in data.items() if k not in CORE_SECTIONS}
    problems: list[ConfigProblem] = []
    sections = registered_sections()
    for name, raw in features.items():
        model = sections.get(name)
        if model is None:
            problems.append(
                ConfigProblem(
                    name,
                    "unknown_section",
                    f"unknown section [{name}]",
                    {"value": name, "choices": ", ".join([*CORE_SECTIONS, *sorted(sections)])},
                )
            )
            continue
        try:
            model.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_problems(exc, prefix=name))
    config: Config | None = None
    try:
        config = Config.model_validate({**core, "features": features})
    except ValidationError as exc:
        problems.extend(_problems(exc))
    # Checked on the raw section, so it is reported with the other problems rather than
    # only once they are fixed.
    matrix = core.get("matrix")
    if isinstance(matrix, dict) and not matrix.get("password") and not matrix.get("access_token"):
        problems.append(ConfigProblem("matrix.password", "no_credentials", "no password or token", {}))
    # Without network rooms every room would count, and a moderator of any room would be
    # an animator: refused, with what to write (an old config with `rooms = []` too).
    bot = core.get("bot")
    rooms = bot.get("rooms") if isinstance(bot, dict) else None
    if not rooms:
        problems.append(ConfigProblem("bot.rooms", "no_network", "no network rooms", {}))
    if problems or config is None:
        raise ConfigError(problems)
    return config


def _problems(exc: ValidationError, prefix: str = "") -> list[ConfigProblem]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        key = f"{prefix}.{loc}" if prefix and loc else (prefix or loc)
        ctx = dict(err.get("ctx") or {})
        ctx.setdefault("value", err.get("input"))
        out.append(ConfigProblem(key, err["type"], err["msg"], ctx))
    return out


def load_config(path: str | Path, environ: dict[str, str] | None = None) -> Config:
    """Read, apply environment overrides, validate. Raises ConfigError or OSError."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")  # tolerate the BOM some Windows editors write
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigProblem("", "encoding", str(exc), {"detail": str(exc)})]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([toml_problem(str(exc), text)]) from None
    return parse_config(apply_env(data, environ))


_TOML_AT = re.compile(
    r"^(?P<message>.*) \(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)$"
)
# tomllib's messages (English) by what to tell the operator: catalog `config.toml_hints.*`.
_TOML_HINTS = (
    ("Expected '='", "equals"),
    ("Unterminated string", "string"),
    ("Illegal character '\\n'", "string"),  # a line break in a quoted text: its end quote missing
    ("Invalid value", "value"),
    ("Cannot overwrite", "twice"),
    ("Cannot declare", "twice"),
    ("Duplicate", "twice"),
    ("Cannot redefine", "twice"),
    ("Cannot mutate", "twice"),
    ("Expected ']", "bracket"),
    ("Unclosed", "bracket"),
    ("Unescaped", "backslash"),
)


def toml_problem(message: str, text: str) -> ConfigProblem:
    """A TOML syntax error, said by where it is and what usually causes it (the line
    itself is not shown: it may hold a password)."""
    m = _TOML_AT.match(message)
    line = int(m["line"]) if m and m["line"] else text.count("\n") + 1
    column = int(m["column"]) if m and m["column"] else 1
    hint = next((h for prefix, h in _TOML_HINTS if message.startswith(prefix)), "other")
    source = text.splitlines()[line - 1] if 0 < line <= len(text.splitlines()) else ""
    key = source.split("=", 1)[0].strip() if "=" in source else ""
    context = {"line": line, "column": column, "hint": hint, "toml_key": key if KEY.fullmatch(key) else ""}
    return ConfigProblem("", "toml_syntax", message, context)


KEY = re.compile(r"[A-Za-z0-9_.-]{1,60}")

"""`oasis-bot`: the command line.

    oasis-bot demo                       local homeserver + bot, nothing to configure
    oasis-bot console [--as animator]    chat with the demo bot from the terminal
    oasis-bot run --config config.toml   serve a real homeserver
    oasis-bot check-config config.toml   validate a config, in French
    oasis-bot backup / restore FILE      the whole database in one file, keys included

Features add their own subcommands with `@cli_command` (e.g. `import-contacts`)."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import signal
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import SecretStr

from bot.config import Config, ConfigError, ConfigProblem, load_config
from bot.features import load_features
from bot.i18n import LOCALES, Translator, default_catalog


@dataclass
class CliCommand:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


_cli_commands: list[CliCommand] = []

# Another process serves this SQLite database: restarting would not help (systemd:
# RestartPreventExitStatus=3).
EXIT_ALREADY_RUNNING = 3


def cli_command(
    name: str, help: str, configure: Callable[[argparse.ArgumentParser], None]
) -> Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]:
    """Declare a feature's subcommand: `configure` adds its arguments, the decorated
    function runs it and returns the exit code."""

    def register(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        _cli_commands.append(CliCommand(name, help, configure, fn))
        return fn

    return register


def _problem_text(problem: ConfigProblem, lang: str) -> str:
    tr = default_catalog().translator(lang)
    key = f"config.errors.{problem.error_type}"
    params = {k: v for k, v in problem.context.items()}
    params.setdefault("message", problem.message)
    if "expected" in params:
        params["expected"] = str(params["expected"])
    if problem.error_type == "toml_syntax":
        params["hint"] = tr.t(f"config.toml_hints.{params.get('hint', 'other')}")
        params["where"] = tr.t(
            "config.toml_where_key" if params.get("toml_key") else "config.toml_where", **params
        )
    text = tr.t(key, **params) if tr.has(key) else tr.t("config.errors.generic", message=problem.message)
    return tr.t("config.problem", field=problem.key or tr.t("config.whole_file"), text=text)


def report_config(path: str, lang: str = "fr") -> tuple[Config | None, str]:
    """Validate a config file; returns the config (or None) and the text to print, in
    which no password, token or database password ever appears."""
    config, text = _report_config(path, lang)
    for secret in _secrets(path):
        text = text.replace(secret, "***")
    return config, text


def _report_config(path: str, lang: str) -> tuple[Config | None, str]:
    tr = default_catalog().translator(lang)
    load_features()
    if not Path(path).exists():
        return None, tr.t("config.file_missing", path=path)
    try:
        config = load_config(path)
    except OSError as exc:  # a directory, no permission…
        return None, tr.t("config.unreadable", path=path, detail=exc.strerror or type(exc).__name__)
    except ConfigError as err:
        lines = [tr.t("config.problems", n=len(err.problems), path=path)]
        lines += [_problem_text(p, lang) for p in err.problems]
        return None, "\n".join(lines)
    lines = [
        tr.t(
            "config.ok",
            path=path,
            user=config.matrix.user_id,
            homeserver=config.matrix.homeserver,
            database=config.database.url.split("@")[-1],
        )
    ]
    lines += [tr.t("config.warning", text=w) for w in config_warnings(config, tr)]
    return config, "\n".join(lines)


def config_warnings(config: Config, tr: Translator) -> list[str]:
    """What works but should not be so in production."""
    out = []
    url = urlsplit(config.matrix.homeserver)
    if url.scheme == "http" and not _is_loopback(url.hostname or ""):
        out.append(tr.t("config.warnings.http", url=config.matrix.homeserver))
    return out


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _secrets(path: str) -> list[str]:
    """The secrets a config may hold (its own, the environment's), longest first, so
    none of them is ever printed back."""
    found: list[str] = []
    for var in ("OASIS_MATRIX_PASSWORD", "OASIS_MATRIX_ACCESS_TOKEN", "OASIS_DATABASE_URL"):
        if os.environ.get(var):
            found.append(os.environ[var])
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        data = {}

    def walk(value: object, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, str(k).lower())
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif any(word in key for word in ("password", "token", "secret", "key")):
            found.append(str(value))
        elif isinstance(value, str) and "://" in value:
            found.append(value)

    walk(data)
    out: list[str] = []
    for value in found:
        if "://" in value:  # a URL: only its password part is secret
            password = urlsplit(value).password if "@" in value else None
            value = password or ""
        if len(value) >= 3:
            out.append(value)
    return sorted(set(out), key=len, reverse=True)


def _cmd_check(args: argparse.Namespace) -> int:
    config, text = report_config(args.config, args.lang)
    print(text)
    return 0 if config is not None else 1


def _cmd_run(args: argparse.Namespace) -> int:
    config, text = report_config(args.config)
    if config is None:
        print(text, file=sys.stderr)
        return 1
    from bot.app import App
    from bot.logs import hide, setup_logging

    setup_logging(config.logging.level, config.logging.format)
    for value in config.matrix.__dict__.values():  # password, token, key: every secret
        if isinstance(value, SecretStr):
            hide(value.get_secret_value())
    return asyncio.run(_serve(config, lambda: App(config, settle_memory=True)))


async def _serve(config: Config, make_app: Callable[[], object]) -> int:
    """Run the app while this process is the active one (`bot.standby`)."""
    from bot.client import LoginFailed
    from bot.standby import AlreadyRunning, DatabaseRefused, Supervisor, lease_for

    supervisor = Supervisor(make_app, lease_for(config.database.url))  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, supervisor.request_stop)
    health = None
    if config.monitoring.listen:
        from bot.health import HealthServer

        health = HealthServer(supervisor, config.monitoring.listen)
        await health.start()
    try:
        return await supervisor.run()
    except AlreadyRunning as exc:
        tr = default_catalog().translator(config.bot.language)
        print(tr.t("operations.already_running", database=exc.database, lock=exc.lock_path), file=sys.stderr)
        return EXIT_ALREADY_RUNNING
    except DatabaseRefused as refused:
        from sqlalchemy.engine import make_url

        tr = default_catalog().translator(config.bot.language)
        url = make_url(config.database.url)
        text = tr.t(
            refused.key,
            database=refused.database,
            detail=refused.detail,
            owner=url.username or "postgres",
            name=url.database or "oasis",
        )
        print(text, file=sys.stderr)
        return 1
    except LoginFailed as failed:
        tr = default_catalog().translator(config.bot.language)
        text = tr.t(
            "operations.login_refused",
            url=config.matrix.homeserver,
            user=config.matrix.user_id,
            detail=str(failed)[:200],
        )
        print(text, file=sys.stderr)
        return 1
    finally:
        if health is not None:
            await health.stop()


def _cmd_backup(args: argparse.Namespace) -> int:
    from datetime import datetime

    from bot.backup import BackupError, backup

    config, text = report_config(args.config)
    if config is None:
        print(text, file=sys.stderr)
        return 1
    tr = default_catalog().translator(config.bot.language)
    output = Path(args.output or f"oasis-backup-{datetime.now():%Y%m%d-%H%M%S}.jsonl.gz")
    try:
        summary = asyncio.run(backup(config.database.url, output))
    except BackupError as err:
        print(tr.t(err.key, **err.params), file=sys.stderr)
        return 1
    print(tr.t("operations.backup.done", path=str(output), rows=summary.rows, tables=len(summary.tables)))
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    from bot.backup import BackupError, restore

    config, text = report_config(args.config)
    if config is None:
        print(text, file=sys.stderr)
        return 1
    tr = default_catalog().translator(config.bot.language)
    if not Path(args.file).is_file():
        print(tr.t("operations.restore.no_file", path=args.file), file=sys.stderr)
        return 1
    try:
        summary = asyncio.run(restore(config.database.url, Path(args.file), replace=args.replace))
    except BackupError as err:
        print(tr.t(err.key, **err.params), file=sys.stderr)
        return 1
    print(tr.t("operations.restore.done", rows=summary.rows, tables=len(summary.tables)))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return asyncio.run(run_demo(Path(args.dir), args.lang, examples=not args.no_examples))


def _cmd_console(args: argparse.Namespace) -> int:
    from bot.console import run_console

    return asyncio.run(run_console(Path(args.dir), args.as_, direct=args.dm, lang=args.lang, wait=args.wait))


# argparse's own words (« usage: », « show this help message and exit », its errors), by
# their catalog names: `--help` and errors speak the operator's language throughout.
_ARGPARSE_WORDS = {
    "usage: ": "usage",
    "positional arguments": "positional",
    "options": "options",
    "show this help message and exit": "help",
    "%(prog)s: error: %(message)s\n": "error",
    "the following arguments are required: %s": "required",
    "invalid choice: %(value)r (choose from %(choices)s)": "invalid_choice",
    "unrecognized arguments: %s": "unrecognized",
    "expected one argument": "expected_one",
    "invalid %(type)s value: %(value)r": "invalid_value",
    "argument %(argument_name)s: %(message)s": "argument",
}


def operator_language(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> str:
    """The operator's language: `--lang`, else the locale (LC_ALL, LC_MESSAGES, LANG)."""
    args = sys.argv[1:] if argv is None else argv
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args) and args[i + 1] in LOCALES:
            return args[i + 1]
        if arg.startswith("--lang=") and arg.split("=", 1)[1] in LOCALES:
            return arg.split("=", 1)[1]
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(name):
            return "en" if env[name].lower().startswith("en") else "fr"
    return "fr"


def _speak_argparse(lang: str) -> None:
    tr = default_catalog().translator(lang)

    def translate(message: str) -> str:
        key = _ARGPARSE_WORDS.get(message)
        return tr.t(f"cli.argparse.{key}").replace("\u00a0", " ") if key else message

    argparse._ = translate  # type: ignore[attr-defined]  # argparse reads it at each call


def build_parser(lang: str | None = None) -> argparse.ArgumentParser:
    load_features()
    lang = lang or operator_language()
    _speak_argparse(lang)
    tr = default_catalog().translator(lang)
    parser = argparse.ArgumentParser(prog="oasis-bot", description=tr.t("cli.description"))
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help=tr.t("cli.demo"))
    demo.add_argument("--dir", default="oasis-demo", help=tr.t("cli.demo_dir"))
    demo.add_argument("--lang", choices=["fr", "en"], default=lang, help=tr.t("cli.lang"))
    demo.add_argument(
        "--sans-exemples",
        "--no-examples",
        dest="no_examples",
        action="store_true",
        help=tr.t("cli.demo_no_examples"),
    )
    demo.set_defaults(func=_cmd_demo)

    console = sub.add_parser("console", help=tr.t("cli.console"))
    console.add_argument(
        "--as",
        dest="as_",
        choices=["member", "animator", "membre", "animateur", "nouveau", "nouvelle", "newcomer"],
        default="member",
        help=tr.t("cli.console_as"),
    )
    console.add_argument("--wait", type=float, default=30, help=tr.t("cli.console_wait"))
    console.add_argument("--dm", action="store_true", help=tr.t("cli.console_dm"))
    console.add_argument("--dir", default="oasis-demo", help=tr.t("cli.demo_dir"))
    console.add_argument("--lang", choices=["fr", "en"], default=lang, help=tr.t("cli.lang"))
    console.set_defaults(func=_cmd_console)

    run = sub.add_parser("run", help=tr.t("cli.run"))
    run.add_argument("--config", "-c", default="config.toml", help=tr.t("cli.config"))
    run.set_defaults(func=_cmd_run)

    check = sub.add_parser("check-config", help=tr.t("cli.check_config"))
    check.add_argument("config", nargs="?", default="config.toml", help=tr.t("cli.config"))
    check.add_argument("--lang", choices=["fr", "en"], default=lang, help=tr.t("cli.lang"))
    check.set_defaults(func=_cmd_check)

    save = sub.add_parser("backup", help=tr.t("operations.backup.help"))
    save.add_argument("--config", "-c", default="config.toml", help=tr.t("cli.config"))
    save.add_argument("--output", "-o", help=tr.t("operations.backup.output_help"))
    save.set_defaults(func=_cmd_backup)

    load = sub.add_parser("restore", help=tr.t("operations.restore.help"))
    load.add_argument("file", help=tr.t("operations.restore.file_help"))
    load.add_argument("--config", "-c", default="config.toml", help=tr.t("cli.config"))
    load.add_argument("--replace", action="store_true", help=tr.t("operations.restore.replace_help"))
    load.set_defaults(func=_cmd_restore)

    for extra in _cli_commands:
        # `help` may be a catalog key (features' CLI text lives in their catalogs).
        p = sub.add_parser(extra.name, help=tr.t(extra.help) if tr.has(extra.help) else extra.help)
        extra.configure(p)
        for action in p._actions:  # the options every command shares, described alike
            if "--lang" in action.option_strings:
                action.default, action.help = lang, action.help or tr.t("cli.lang")
            elif "--config" in action.option_strings and not action.help:
                action.help = tr.t("cli.config")
        p.set_defaults(func=extra.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Every file the bot makes — its database and the files beside it, its lock, backups,
    # exports, key stores — is its user's alone: 0600, folders 0700.
    os.umask(0o077)
    args = build_parser(operator_language(argv)).parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

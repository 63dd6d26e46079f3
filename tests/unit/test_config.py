"""Configuration: validation, French problem reports with their keys, environment
overrides, feature sections and `oasis-bot check-config`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import Field

from bot import config as config_module
from bot.cli import main, report_config
from bot.config import (
    CORE_SECTIONS,
    Config,
    ConfigError,
    ConfigProblem,
    Section,
    apply_env,
    load_config,
    parse_config,
)
from bot.i18n import NBSP, NNBSP

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"

VALID = """
[matrix]
homeserver = "https://matrix.example.org/"
user_id = "@oasis:example.org"
password = "s3cret"

[bot]
language = "en"
timezone = "America/Montreal"
admins = ["@admin:example.org"]
animators = ["@anim:example.org"]
animator_power_level = 75
rooms = ["!abc:example.org", "!Qi3vPm8YxK0cZt1w-Nb_4sRgHjLe5AoUdFy7Wq2xTz9"]

[invites]
allow = ["example.org", "@friend:other.org"]

[database]
url = "postgresql+asyncpg://oasis:pw@db.example.org/oasis"

[logging]
level = "debug"
"""

NO_NETWORK = """
[matrix]
homeserver = "https://matrix.example.org"
user_id = "@oasis:example.org"
password = "pw"
"""
# The smallest valid config; it ends in [bot], so a test adds its own [bot] keys after it.
MINIMAL = (
    NO_NETWORK
    + """
[bot]
rooms = ["!net:example.org"]
"""
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in config_module.ENV_OVERRIDES:
        monkeypatch.delenv(var, raising=False)


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(text: str, tmp_path: Path, environ: dict[str, str] | None = None) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), environ=environ or {})
    return info.value.problems


def only_problem(text: str, tmp_path: Path) -> ConfigProblem:
    found = problems(text, tmp_path)
    assert len(found) == 1, found
    return found[0]


def report(tmp_path: Path, text: str, lang: str = "fr") -> str:
    config, out = report_config(str(write(tmp_path, text)), lang)
    assert config is None
    return out


# --- valid ------------------------------------------------------------------------


def test_valid_config(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, VALID), environ={})
    assert cfg.matrix.homeserver == "https://matrix.example.org"  # trailing slash removed
    assert cfg.matrix.user_id == "@oasis:example.org"
    assert cfg.matrix.password is not None and cfg.matrix.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(cfg)  # secrets are not printed
    assert cfg.bot.language == "en"
    assert str(cfg.tz) == "America/Montreal"
    assert cfg.bot.animator_power_level == 75
    # Room version 12 IDs (the default on recent Synapse) have no server part.
    assert cfg.bot.rooms == ["!abc:example.org", "!Qi3vPm8YxK0cZt1w-Nb_4sRgHjLe5AoUdFy7Wq2xTz9"]
    assert cfg.invites.allow == ["example.org", "@friend:other.org"]
    assert cfg.database.url.startswith("postgresql+asyncpg://")
    assert cfg.logging.level == "DEBUG"
    assert cfg.server_name == "example.org"


def test_defaults(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL), environ={})
    assert cfg.bot.language == "fr"
    assert cfg.bot.timezone == "Europe/Paris"
    assert cfg.bot.prefixes == ["!", "/"]
    assert cfg.bot.animator_power_level == 50
    assert cfg.bot.admins == [] and cfg.bot.animators == [] and cfg.bot.rooms == ["!net:example.org"]
    assert cfg.invites.allow == [] and cfg.invites.outside == "answer"
    assert cfg.database.url == "sqlite+aiosqlite:///oasis-bot.db"
    assert cfg.logging.level == "INFO"


def test_access_token_instead_of_password(tmp_path: Path) -> None:
    text = MINIMAL.replace('password = "pw"', 'access_token = "syt_abc"')
    cfg = load_config(write(tmp_path, text), environ={})
    assert cfg.matrix.password is None
    assert cfg.matrix.access_token is not None


def test_config_is_frozen(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL), environ={})
    with pytest.raises(ValueError):
        cfg.bot.language = "en"


# --- each kind of problem ---------------------------------------------------------


def test_missing_homeserver(tmp_path: Path) -> None:
    text = '[matrix]\nuser_id = "@oasis:example.org"\npassword = "x"\n[bot]\nrooms = ["!n:example.org"]\n'
    p = only_problem(text, tmp_path)
    assert (p.key, p.error_type) == ("matrix.homeserver", "missing")


def test_missing_matrix_section(tmp_path: Path) -> None:
    p = only_problem('[bot]\nlanguage = "fr"\nrooms = ["!net:example.org"]\n', tmp_path)
    assert (p.key, p.error_type) == ("matrix", "missing")


def test_bad_user_id(tmp_path: Path) -> None:
    p = only_problem(MINIMAL.replace("@oasis:example.org", "oasis"), tmp_path)
    assert (p.key, p.error_type) == ("matrix.user_id", "user_id")
    assert p.context["value"] == "oasis"


def test_bad_admin_id(tmp_path: Path) -> None:
    p = only_problem(MINIMAL + 'admins = ["alice"]\n', tmp_path)
    assert (p.key, p.error_type) == ("bot.admins", "user_id")


@pytest.mark.parametrize("room", ["salon", "!", "! x:y", "#reseau:example.org"])
def test_bad_room_id(tmp_path: Path, room: str) -> None:
    # An alias is refused: the bot compares these with the IDs of the rooms it is in, so
    # an alias would silently never match.
    p = only_problem(NO_NETWORK + f'[bot]\nrooms = ["{room}"]\n', tmp_path)
    assert (p.key, p.error_type) == ("bot.rooms", "room_id")


@pytest.mark.parametrize("rooms", [None, "[]"])
def test_no_network_rooms(tmp_path: Path, rooms: str | None) -> None:
    # No network, or an old deployment's `rooms = []` (once: every room the bot was in).
    text = NO_NETWORK + (f"[bot]\nrooms = {rooms}\n" if rooms else "")
    p = only_problem(text, tmp_path)
    assert (p.key, p.error_type) == ("bot.rooms", "no_network")


def test_no_network_report_says_what_to_write(tmp_path: Path) -> None:
    out = report(tmp_path, NO_NETWORK + "[bot]\nrooms = []\n").splitlines()
    assert out[1].startswith(f"  - bot.rooms{NBSP}: aucun salon du réseau. Écrivez dans [bot] les")
    assert 'rooms = ["!abcdef:example.org"]' in out[1]
    english = report(tmp_path, NO_NETWORK, lang="en").splitlines()
    assert english[1].startswith("  - bot.rooms: no network rooms. Write the IDs")


def test_run_with_no_network_explains_and_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An existing deployment with `rooms = []` meets the same explanation at start, instead
    # of every room it is in silently counting (or none).
    path = write(tmp_path, NO_NETWORK + "[bot]\nrooms = []\n")
    assert main(["run", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"bot.rooms{NBSP}: aucun salon du réseau" in err and 'rooms = ["!abcdef:example.org"]' in err


def test_invites_outside(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL + '[invites]\noutside = "leave"\n'), environ={})
    assert cfg.invites.outside == "leave"
    p = only_problem(MINIMAL + '[invites]\noutside = "ignore"\n', tmp_path)
    assert (p.key, p.error_type) == ("invites.outside", "literal_error")


@pytest.mark.parametrize("url", ["matrix.example.org", "ftp://matrix.example.org", "https://", ""])
def test_bad_url(tmp_path: Path, url: str) -> None:
    p = only_problem(MINIMAL.replace("https://matrix.example.org", url), tmp_path)
    assert (p.key, p.error_type) == ("matrix.homeserver", "url")


def test_unknown_key(tmp_path: Path) -> None:
    p = only_problem(MINIMAL + 'langage = "fr"\n', tmp_path)
    assert (p.key, p.error_type) == ("bot.langage", "extra_forbidden")


def test_unknown_section(tmp_path: Path) -> None:
    p = only_problem(MINIMAL + '[databse]\nurl = "sqlite:///x.db"\n', tmp_path)
    assert (p.key, p.error_type) == ("databse", "unknown_section")
    # The possible sections include the core ones, so the typo is easy to spot.
    for core in CORE_SECTIONS:
        assert core in p.context["choices"]


def test_bad_timezone(tmp_path: Path) -> None:
    p = only_problem(MINIMAL + 'timezone = "Europe/Paaris"\n', tmp_path)
    assert (p.key, p.error_type) == ("bot.timezone", "timezone")


def test_bad_language(tmp_path: Path) -> None:
    p = only_problem(MINIMAL + 'language = "de"\n', tmp_path)
    assert (p.key, p.error_type) == ("bot.language", "language")
    assert p.context["choices"] == "fr, en"


def test_bad_prefixes(tmp_path: Path) -> None:
    for prefixes in ("[]", '["a"]', '["! "]', '[""]'):
        p = only_problem(MINIMAL + f"prefixes = {prefixes}\n", tmp_path)
        assert (p.key, p.error_type) == ("bot.prefixes", "prefixes")


def test_power_level_out_of_range(tmp_path: Path) -> None:
    p = only_problem(MINIMAL + "animator_power_level = 150\n", tmp_path)
    assert (p.key, p.error_type) == ("bot.animator_power_level", "less_than_equal")


def test_bad_database_url_and_log_level(tmp_path: Path) -> None:
    found = problems(MINIMAL + '[database]\nurl = "mysql://x"\n[logging]\nlevel = "LOUD"\n', tmp_path)
    assert [(p.key, p.error_type) for p in found] == [
        ("database.url", "database_url"),
        ("logging.level", "log_level"),
    ]


def test_no_credentials(tmp_path: Path) -> None:
    p = only_problem(MINIMAL.replace('password = "pw"', ""), tmp_path)
    assert (p.key, p.error_type) == ("matrix.password", "no_credentials")


def test_empty_password_is_no_credentials(tmp_path: Path) -> None:
    p = only_problem(MINIMAL.replace('password = "pw"', 'password = ""'), tmp_path)
    assert p.error_type == "no_credentials"


def test_toml_syntax_error(tmp_path: Path) -> None:
    p = only_problem("[matrix\nhomeserver = 1", tmp_path)
    assert (p.key, p.error_type) == ("", "toml_syntax")
    assert (p.context["line"], p.context["hint"]) == (1, "bracket")


def test_utf8_bom_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert load_config(path, environ={}).matrix.user_id == "@oasis:example.org"


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(MINIMAL.replace("oasis", "oasisé").encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    (p,) = info.value.problems
    assert (p.key, p.error_type) == ("", "encoding")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = '[matrix]\nuser_id = "x"\n[bot]\nlanguage = "de"\ntimezone = "Nowhere"\n[oops]\n'
    keys = {p.key for p in problems(text, tmp_path)}
    assert keys == {
        "oops",
        "matrix.homeserver",
        "matrix.user_id",
        "matrix.password",  # no credentials either: said now, not after the rest is fixed
        "bot.language",
        "bot.timezone",
        "bot.rooms",  # no network either
    }


# --- French messages --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (
            '[matrix]\nuser_id = "@oasis:example.org"\npassword = "x"\n[bot]\nrooms = ["!n:example.org"]\n',
            f"  - matrix.homeserver{NBSP}: clé obligatoire manquante.",
        ),
        (
            MINIMAL.replace("@oasis:example.org", "oasis"),
            f"  - matrix.user_id{NBSP}: «{NBSP}oasis{NBSP}» n'est pas un identifiant Matrix. "
            f"Exemple{NBSP}: @oasis:example.org",
        ),
        (
            MINIMAL.replace("https://matrix.example.org", "matrix.example.org"),
            f"  - matrix.homeserver{NBSP}: «{NBSP}matrix.example.org{NBSP}» n'est pas une adresse "
            f"http(s). Exemple{NBSP}: https://matrix.example.org",
        ),
        (
            MINIMAL + "couleur = 1\n",
            f"  - bot.couleur{NBSP}: clé inconnue. Vérifiez l'orthographe (voir config.example.toml).",
        ),
        (
            MINIMAL + "timezone = 'Mars/Olympus'\n",
            f"  - bot.timezone{NBSP}: fuseau horaire «{NBSP}Mars/Olympus{NBSP}» inconnu. "
            f"Exemple{NBSP}: Europe/Paris",
        ),
        (
            MINIMAL + "language = 'de'\n",
            f"  - bot.language{NBSP}: langue «{NBSP}de{NBSP}» inconnue. Langues possibles{NBSP}: fr, en.",
        ),
        (
            MINIMAL + "animator_power_level = 'cinquante'\n",
            f"  - bot.animator_power_level{NBSP}: «{NBSP}cinquante{NBSP}» n'est pas un nombre entier.",
        ),
        (
            MINIMAL.replace('password = "pw"', ""),
            f"  - matrix.password{NBSP}: ni mot de passe ni jeton d'accès.",
        ),
        (
            "[matrix\n",
            f"  - (fichier){NBSP}: le fichier n'est pas du TOML valide (ligne 1, colonne 8){NBSP}: ",
        ),
    ],
)
def test_report_in_french_with_the_key(tmp_path: Path, text: str, line: str) -> None:
    out = report(tmp_path, text).splitlines()
    assert out[0] == f"1 problème dans {tmp_path / 'config.toml'}{NBSP}:"
    assert out[1].startswith(line), out[1]


def test_unknown_section_report_lists_the_sections(tmp_path: Path) -> None:
    out = report(tmp_path, MINIMAL + "[databse]\n")
    assert f"  - databse{NBSP}: section inconnue [databse]. Sections possibles{NBSP}: matrix, bot," in out


def test_report_counts_problems(tmp_path: Path) -> None:
    out = report(tmp_path, '[matrix]\nuser_id = "x"\n')
    assert out.splitlines()[0].startswith("4 problèmes dans")  # with no network rooms
    assert len(out.splitlines()) == 5


def test_report_in_english(tmp_path: Path) -> None:
    out = report(tmp_path, MINIMAL + "language = 'de'\n", lang="en")
    assert out.splitlines()[0].endswith("1 problem in " + str(tmp_path / "config.toml") + ":")
    assert out.splitlines()[1] == "  - bot.language: unknown language « de ». Possible languages: fr, en."


def test_report_never_shows_pydantic_english(tmp_path: Path) -> None:
    out = report(tmp_path, '[matrix]\nuser_id = 3\nhomeserver = []\npassword = "x"\n[bot]\nrooms = "x"\n')
    assert "Input should be" not in out
    assert "chaîne de caractères" in out
    assert "une liste est attendue" in out


def test_report_of_a_valid_config(tmp_path: Path) -> None:
    config, out = report_config(str(write(tmp_path, VALID)))
    assert config is not None
    assert out == (
        f"{tmp_path / 'config.toml'} est valide{NBSP}: compte @oasis:example.org sur "
        "https://matrix.example.org, base db.example.org/oasis."
    )
    assert "pw" not in out  # the database password is not printed


def test_report_of_a_file_that_cannot_be_read(tmp_path: Path) -> None:
    folder = tmp_path / "config.toml"
    folder.mkdir()
    config, out = report_config(str(folder))
    assert config is None
    assert out.startswith(f"Impossible de lire {folder}{NBSP}: ")


def test_report_of_a_file_not_in_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(MINIMAL.replace("oasis", "oasisé").encode("latin-1"))
    config, out = report_config(str(path))
    assert config is None
    assert "n'est pas en UTF-8" in out.splitlines()[1]


def test_report_of_a_missing_file(tmp_path: Path) -> None:
    config, out = report_config(str(tmp_path / "absent.toml"))
    assert config is None
    assert out.startswith(f"Fichier introuvable{NBSP}: {tmp_path / 'absent.toml'}.")


# --- environment ------------------------------------------------------------------


def test_env_overrides_secrets_and_more(tmp_path: Path) -> None:
    text = MINIMAL.replace('password = "pw"', "")
    cfg = load_config(
        write(tmp_path, text),
        environ={
            "OASIS_MATRIX_PASSWORD": "from-env",
            "OASIS_DATABASE_URL": "sqlite+aiosqlite:////tmp/x.db",
            "OASIS_MATRIX_HOMESERVER": "https://other.example.org",
        },
    )
    assert cfg.matrix.password is not None and cfg.matrix.password.get_secret_value() == "from-env"
    assert cfg.database.url == "sqlite+aiosqlite:////tmp/x.db"
    assert cfg.matrix.homeserver == "https://other.example.org"


def test_env_wins_over_the_file(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL), environ={"OASIS_MATRIX_PASSWORD": "env"})
    assert cfg.matrix.password is not None and cfg.matrix.password.get_secret_value() == "env"


def test_env_access_token_and_ids_without_a_matrix_section(tmp_path: Path) -> None:
    cfg = load_config(
        write(tmp_path, '[bot]\nrooms = ["!net:example.org"]\n'),
        environ={
            "OASIS_MATRIX_ACCESS_TOKEN": "syt_x",
            "OASIS_MATRIX_HOMESERVER": "https://m.example.org",
            "OASIS_MATRIX_USER_ID": "@bot:example.org",
        },
    )
    assert cfg.matrix.user_id == "@bot:example.org"
    assert cfg.matrix.access_token is not None


def test_empty_env_variable_is_ignored() -> None:
    data: dict[str, Any] = {"matrix": {"password": "file"}}
    assert apply_env(data, {"OASIS_MATRIX_PASSWORD": ""}) == {"matrix": {"password": "file"}}


def test_load_config_reads_the_process_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OASIS_MATRIX_PASSWORD", "process-env")
    cfg = load_config(write(tmp_path, MINIMAL.replace('password = "pw"', "")))
    assert cfg.matrix.password is not None and cfg.matrix.password.get_secret_value() == "process-env"


# --- feature sections -------------------------------------------------------------


class DigestSection(Section):
    section_name: ClassVar[str] = "digest"
    weekday: int = Field(default=1, ge=1, le=7)
    rooms: list[str] = Field(default_factory=list)


@pytest.fixture
def digest_section(monkeypatch: pytest.MonkeyPatch) -> type[DigestSection]:
    monkeypatch.setitem(config_module._sections, "digest", DigestSection)
    return DigestSection


def test_feature_section_validated_and_read(tmp_path: Path, digest_section: type[DigestSection]) -> None:
    cfg = load_config(write(tmp_path, MINIMAL + "[digest]\nweekday = 5\n"), environ={})
    section = cfg.section(digest_section)
    assert section.weekday == 5 and section.rooms == []


def test_feature_section_defaults_when_absent(tmp_path: Path, digest_section: type[DigestSection]) -> None:
    cfg = load_config(write(tmp_path, MINIMAL), environ={})
    assert cfg.section(digest_section).weekday == 1


def test_feature_section_problems_carry_its_name(tmp_path: Path, digest_section: type[DigestSection]) -> None:
    found = problems(MINIMAL + "[digest]\nweekday = 9\nroom = []\n", tmp_path)
    assert {(p.key, p.error_type) for p in found} == {
        ("digest.weekday", "less_than_equal"),
        ("digest.room", "extra_forbidden"),
    }


def test_unknown_section_lists_registered_features(
    tmp_path: Path, digest_section: type[DigestSection]
) -> None:
    p = only_problem(MINIMAL + "[digets]\n", tmp_path)
    assert "digest" in p.context["choices"].split(", ")


# --- command line -----------------------------------------------------------------


def test_check_config_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check-config", str(write(tmp_path, MINIMAL))])
    out = capsys.readouterr().out
    assert code == 0
    assert "est valide" in out


def test_check_config_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check-config", str(write(tmp_path, MINIMAL + "language = 'de'\n"))])
    out = capsys.readouterr().out
    assert code == 1
    assert "bot.language" in out and "inconnue" in out


def test_check_config_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(tmp_path / "absent.toml")]) == 1
    assert "Fichier introuvable" in capsys.readouterr().out


def test_check_config_in_english(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "--lang", "en", str(write(tmp_path, "[matrix\n"))]) == 1
    assert "the file is not valid TOML" in capsys.readouterr().out


def test_check_config_env_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(write(tmp_path, MINIMAL.replace('password = "pw"', "")))
    assert main(["check-config", path]) == 1
    capsys.readouterr()
    monkeypatch.setenv("OASIS_MATRIX_PASSWORD", "from-env")
    assert main(["check-config", path]) == 0


# --- the example --------------------------------------------------------------------


def test_example_config_validates_with_a_password_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OASIS_MATRIX_PASSWORD", "from-env")
    config, out = report_config(str(EXAMPLE))
    assert config is not None, out
    assert isinstance(config, Config)


def test_example_config_documents_every_core_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    for section in CORE_SECTIONS:
        assert f"[{section}]" in text
        model = Config.model_fields[section].annotation
        assert isinstance(model, type)
        for key in model.model_fields:
            assert f"\n{key} =" in text or f"\n# {key} =" in text, f"{section}.{key} not documented"


def test_example_config_without_password_says_how(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(EXAMPLE)]) == 1
    assert "OASIS_MATRIX_PASSWORD" in capsys.readouterr().out


def test_parse_config_on_a_mapping() -> None:
    cfg = parse_config(
        {
            "matrix": {"homeserver": "http://localhost:8008", "user_id": "@b:localhost", "password": "x"},
            "bot": {"rooms": ["!net:localhost"]},
        }
    )
    assert cfg.server_name == "localhost"


def test_a_time_of_day_is_explained_not_listed(tmp_path: Path) -> None:
    out = report(tmp_path, MINIMAL + '[digest]\nhour = "25h"\n').replace("\u00a0", " ")
    assert "digest.hour : « 25h » n'est pas une heure. Écrivez-la de 00:00 à 23:59" in out
    assert "Valeurs possibles : 09:00" not in out


@pytest.mark.parametrize(("typed", "expected"), [("09:00", (9, 0)), ("9h30", (9, 30)), ("18h", (18, 0))])
def test_times_of_day_read(tmp_path: Path, typed: str, expected: tuple[int, int]) -> None:
    from commands.digest import DigestConfig

    config = load_config(write(tmp_path, MINIMAL + f'[digest]\nhour = "{typed}"\n'), environ={})
    at = config.section(DigestConfig).at
    assert (at.hour, at.minute) == expected


# --- issue 11: what the operator is told ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            '[matrix]\npassword = "abc\n',
            "ligne 2, colonne 16, clé « password ») : un texte n'est pas refermé",
        ),
        (
            '[matrix]\nuser_id "@x:y"\n',
            "ligne 2, colonne 9) : il manque le signe = entre la clé et sa valeur",
        ),
        ("[matrix]\nhomeserver = https://m.org\n", "clé « homeserver ») : valeur incompréhensible"),
        (
            '[matrix]\n[matrix]\nuser_id = "@o:m.org"\n',
            "ligne 2, colonne 8) : cette clé ou cette section est déjà",
        ),
    ],
)
def test_a_toml_syntax_error_is_said_in_french_with_where_and_why(
    tmp_path: Path, text: str, said: str
) -> None:
    out = report(tmp_path, text).replace(NBSP, " ").replace(NNBSP, " ")
    assert "TOML valide (" in out and said in out, out
    assert "Expected" not in out and "Invalid" not in out and "abc" not in out


def test_an_animator_power_level_of_0_is_refused(tmp_path: Path) -> None:
    out = report(tmp_path, MINIMAL.replace("[bot]\n", "[bot]\nanimator_power_level = 0\n"))
    assert "bot.animator_power_level" in out and "tout membre du salon serait animateur" in out
    assert load_config(
        write(tmp_path, MINIMAL.replace("[bot]\n", "[bot]\nanimator_power_level = 1\n")), environ={}
    )


@pytest.mark.parametrize(
    ("homeserver", "warned"),
    [
        ("http://matrix.example.org", True),
        ("http://10.0.0.5:8008", True),
        ("https://matrix.example.org", False),
        ("http://localhost:8008", False),
        ("http://127.0.0.1:8008", False),
        ("http://[::1]:8008", False),
    ],
)
def test_check_config_warns_of_http_away_from_this_machine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], homeserver: str, warned: bool
) -> None:
    path = write(tmp_path, MINIMAL.replace("https://matrix.example.org", homeserver))
    assert main(["check-config", str(path)]) == 0
    out = capsys.readouterr().out
    assert ("Attention" in out and "http://" in out and "Utilisez https://" in out) is warned, out


@pytest.mark.parametrize(
    "text",
    [
        MINIMAL.replace('password = "pw"', 'password = "hunter2-secret"')
        + '[database]\nurl = "mysql://u:s3cr3t-db@h/x"\n',
        MINIMAL.replace('password = "pw"', "password = 123456789"),
        MINIMAL.replace('password = "pw"', 'password = ["hunter2-secret"]'),
        MINIMAL.replace(
            'password = "pw"', 'access_token = "syt_secret_token"\npassword = "hunter2-secret"'
        ).replace("[bot]\n", "[bot]\nlanguage = 'de'\n"),
        '[matrix]\nhomeserver = "https://m.org"\nuser_id = "@o:m.org"\npassword = "hunter2-secret\n',
    ],
)
def test_check_config_never_prints_a_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    main(["check-config", str(write(tmp_path, text))])
    out = capsys.readouterr().out
    for secret in ("hunter2", "s3cr3t", "123456789", "syt_secret"):
        assert secret not in out, out


def test_check_config_never_prints_a_password_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OASIS_DATABASE_URL", "postgresql://u:env-s3cret@h/db")
    path = write(tmp_path, MINIMAL)
    main(["check-config", str(path)])
    assert "env-s3cret" not in capsys.readouterr().out

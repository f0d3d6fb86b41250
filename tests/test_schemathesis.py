"""Schemathesis against the real server: every documented operation, every check, valid and invalid data.

Why: /openapi.json is the contract that clients and the Swagger page rely on. This test holds the server to
it, and it to the server, over loopback HTTP to the uvicorn subprocess of conftest's `live_server` (not the
ASGI app in process), so uvicorn's own parsing, the middleware and the SPARQL worker processes are in the
loop. Any failure or error schemathesis reports fails the test; the message lists each one with a curl
command that reproduces it.

Why the CLI rather than `schemathesis.pytest.from_fixture(...).parametrize()`: with pytest 9.2 that lazy
loader fails at once (schemathesis 4.32.5 reads `request.node._nodeid`, which pytest 9.2 removed), and under
pytest Hypothesis stops an operation at its first failing case, so one defect hides the next. The CLI runs
every phase, continues past failures and reports each distinct one; its exit code is the verdict.

Deterministic (derandomized generation, so no seed and no example database; one worker): a run never flakes
and a failure reproduces anywhere; bounded to well under two minutes of requests on two cores.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

CONFIG = Path(__file__).with_name("schemathesis.toml")  # what the schema cannot say (SPARQL's grammar)
MAX_EXAMPLES = 50  # fuzzing-phase cases per operation (coverage adds its own fixed set): 45-75 s in all

# The schema offers a bare SPARQL query body for POST /sparql, text that schemathesis has no serializer for.
HOOKS = 'import schemathesis\nschemathesis.serializer.alias("application/sparql-query", "text/plain")\n'


def test_schemathesis(live_server, tmp_path):
    (tmp_path / "hooks.py").write_text(HOOKS, encoding="utf-8")
    cmd = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run",
           f"{live_server}/openapi.json",
           # Every check; max_response_time is the one off unless given a limit: set above the 10 s SPARQL
           # time limit (a query past it is a documented 503). use_after_free, ensure_resource_availability and
           # the auth checks run but have nothing to act on: the API creates nothing and has no authentication.
           "--checks", "all", "--max-response-time", "12",
           "--mode", "all",  # positive and negative data
           # stateful needs links between operations; the schema has none yet, so it reports "not applicable".
           "--phases", "examples,coverage,fuzzing,stateful", "--continue-on-failure",
           "--max-examples", str(MAX_EXAMPLES), "--generation-deterministic",
           # One worker: reproducible, and within the per-client limits (their 429/503 are documented anyway).
           "--workers", "1", "--request-timeout", "30", "--no-color"]
    run = subprocess.run(cmd, cwd=tmp_path, env={**os.environ, "SCHEMATHESIS_HOOKS": str(tmp_path / "hooks.py")},
                         capture_output=True, text=True, timeout=600)
    out = run.stdout + run.stderr
    report = re.search(r"^=+ (ERRORS|FAILURES) =+$", out, re.M)  # from there on: each failure, then the summary
    if run.returncode != 0:
        pytest.fail(f"schemathesis exited with {run.returncode}:\n{out[report.start() if report else 0:]}",
                    pytrace=False)

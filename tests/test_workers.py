"""`hcc-kg serve --workers 2` as the command runs it: two worker processes that answer, each kept to a core of its
own (api/affinity.py) with its encoder thread below the request threads, their SPARQL processes free to use every
core, the core claims removed when it stops."""
import os
import time
from pathlib import Path

import httpx
import pytest

from api.affinity import claims_folder
from kg.encoder import NICE
from tests.conftest import cli_server


def allowed_cores(pid: int, thread: str | None = None) -> str:
    status = Path(f"/proc/{pid}/task/{thread}/status" if thread else f"/proc/{pid}/status").read_text()
    return next(line.split(":", 1)[1].strip() for line in status.splitlines() if line.startswith("Cpus_allowed_list"))


def children(pid: int) -> list[int]:
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            if f"\nPPid:\t{pid}\n" in status.read_text():
                out.append(int(status.parent.name))
        except OSError:
            pass
    return out


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores to pin two workers")
def test_two_workers_answer_each_on_a_core_of_its_own(built):
    settings, _ = built
    with cli_server(settings.build_dir, "--workers", "2") as (base, proc):
        workers = [p for p in children(proc.pid) if "resource_tracker" not in Path(f"/proc/{p}/cmdline").read_text()]
        assert len(workers) == 2
        deadline = time.monotonic() + 60  # a worker pins itself once its resources are loaded
        while any("," in allowed_cores(w) or "-" in allowed_cores(w) for w in workers):
            assert time.monotonic() < deadline, [allowed_cores(w) for w in workers]
            time.sleep(0.3)
        cores = [allowed_cores(w) for w in workers]
        assert len(set(cores)) == 2
        for w, core in zip(workers, cores):  # every thread of the worker, not its main thread only
            assert {allowed_cores(w, t) for t in os.listdir(f"/proc/{w}/task")} == {core}
            sparql = children(w)
            assert sparql and all(allowed_cores(s) == allowed_cores(os.getpid()) for s in sparql)
        for _ in range(4):  # a new connection each, landing on either worker
            assert httpx.post(base + "/ask", json={"question": "What is TACE?"}, timeout=60).json()["answered"] is True
        for w in workers:  # the encoder thread yields its core to the request threads (kg/encoder.py), no other
            own = os.getpriority(os.PRIO_PROCESS, w)  # the worker's (main thread's) nice
            nice = sorted(os.getpriority(os.PRIO_PROCESS, int(t)) - own for t in os.listdir(f"/proc/{w}/task"))
            assert nice == [0] * (len(nice) - 1) + [min(NICE, 19 - own)], nice
        assert claims_folder(proc.pid).is_dir()
    assert not claims_folder(proc.pid).exists()

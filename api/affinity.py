"""One core a worker: the processes of `hcc-kg serve --workers N` (N up to the cores allowed) each keep to a core.

A worker's threads (the event loop, the request threads, the encoder) then share that core's caches instead of
being moved between cores under load, and a request thread waking the encoder wakes it on its own core. On the
2-core machine this took 8 clients on --workers 2 from 121-130 to 125-135 answers a second (same server, pinning
switched on and off in turn). Each worker claims the first free core with a lock file that dies with it, so a
worker uvicorn restarts takes the core its predecessor held. The SPARQL processes, started before, are left
free: a long query does not compete with one worker only.
"""
import fcntl
import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger("hcc_kg.api")


def claims_folder(parent: int) -> Path:
    """Where the workers of the server process `parent` claim their cores (it removes the folder on exit)."""
    return Path(tempfile.gettempdir()) / f"hcc-kg-cores-{parent}"


def pin_worker(workers: int):
    """Keep this process (every thread it has now, and those they start) to a core of its own; returns the open
    lock file that holds the claim (keep it for the process's life), or None where nothing was pinned."""
    try:
        cores = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return None
    if not 1 < workers <= len(cores):
        return None
    folder = claims_folder(os.getppid())
    folder.mkdir(exist_ok=True)
    for core in cores:
        claim = open(folder / f"{core}.lock", "w")
        try:
            fcntl.flock(claim, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            claim.close()
            continue
        for thread in os.listdir("/proc/self/task"):
            try:
                os.sched_setaffinity(int(thread), {core})
            except OSError:  # a thread that just ended
                pass
        log.info("worker %d keeps to core %d", os.getpid(), core)
        return claim
    log.warning("worker %d found no free core among %s: not pinned", os.getpid(), cores)
    return None

"""Run scripts/bench_ask.py several times in a row and report the median, range and bars met of its figures.

Each run's figures stand beside their median and range, with how many runs met each bar. This machine's speed moves
the ratio figures by more than their margins from one run to the next, so one run says little; the median of
several, with the spread beside it, is the figure to report.

    .venv/bin/python scripts/bench_ask_runs.py --runs 5 [--json runs.json] [bench_ask.py options]
"""
import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_ask  # noqa: E402

FIGURES = {  # name: (how to read it from a run, format)
    "start-up s": (lambda r: r["startup_s"], "{:.2f}"),
    "RSS MiB": (lambda r: max([r["memory_after_warmup"]["server_rss_mib"], *r["worker_rss_mib"]]), "{:.0f}"),
    "floor ms": (lambda r: r["floor_ms"], "{:.2f}"),
    "/ask p50 ms": (lambda r: r["ask_ms"]["p50"], "{:.2f}"),
    "p50 : floor": (lambda r: r["ratio_ask_to_floor_p50"], "{:.2f}"),
    "answers /s": (lambda r: r["throughput"]["requests_per_s"], "{:.1f}"),
    "throughput share": (lambda r: r["throughput_share"], "{:.2f}"),
    "errors": (lambda r: r["throughput"]["errors"], "{:.0f}"),
}


def summary(runs: list[dict]) -> str:
    width = max(map(len, FIGURES)) + 2
    lines = [f"{len(runs)} runs of scripts/bench_ask.py", "",
             f"  {'':<{width}}" + "".join(f"{'run ' + str(i + 1):>9}" for i in range(len(runs)))
             + f"{'median':>9}  range"]
    for name, (get, fmt) in FIGURES.items():
        values = [get(r) for r in runs]
        lines.append(f"  {name:<{width}}" + "".join(f"{fmt.format(v):>9}" for v in values)
                     + f"{fmt.format(statistics.median(values)):>9}"
                     + f"  {fmt.format(min(values))}-{fmt.format(max(values))}")
    lines += ["", "  bars met:"]
    for bar in runs[0]["targets_met"]:
        lines.append(f"    {bar:<22} {sum(r['targets_met'][bar] for r in runs)} of {len(runs)} runs")
    every = sum(all(r["targets_met"].values()) for r in runs)
    lines.append(f"    {'every bar':<22} {every} of {len(runs)} runs")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                epilog="Other options go to every run of bench_ask.py (see its --help).")
    p.add_argument("--runs", type=int, default=5, help="how many runs of bench_ask.py, one after another")
    p.add_argument("--json", type=Path, help="also write every run's figures to this file")
    args, rest = p.parse_known_args(argv)
    bench_args = bench_ask.arguments(rest)
    with tempfile.TemporaryDirectory(prefix="hcc-kg-floor-") as scratch:
        encoders = bench_ask.floor_encoders(Path(scratch))  # loaded once: the plain export takes seconds
    runs = []
    for i in range(args.runs):
        print(f"run {i + 1} of {args.runs} ...", file=sys.stderr, flush=True)
        runs.append(bench_ask.measure(bench_args, encoders))
        print(bench_ask.table(runs[-1]), file=sys.stderr)
    print(summary(runs))
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The stack at rest: how long `webos up` takes, and the resident memory of each
process once the stack is quiet (a process's children counted with it; the
infrastructure — MongoDB, NATS, S3 — listed apart).

Goal (issue #22): idle RSS of a kernel service <= 70 MB; `webos up` to all
ready <= 6 s (installed).

Run: `.venv/bin/python bench/footprint.py [--settle 5]`
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support.stack import CpuMeter, platform

from webos_cli.stack import load_state

RSS_GOAL_MB = 70
MB = 1024 * 1024


def rss_mb(meter: CpuMeter) -> dict[str, float]:
    sizes = {}
    for name, procs in meter.named.items():
        total = 0
        for proc in procs:
            try:
                total += proc.memory_info().rss
            except Exception:  # a child that ended meanwhile
                continue
        sizes[name] = total / MB
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settle", type=float, default=5.0, help="seconds of rest before reading RSS")
    options = parser.parse_args()
    print(f"load: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="bench-footprint-") as tmp, platform(Path(tmp) / "state") as (_, plan):
        kinds = {rec.name: rec.kind for rec in load_state(plan).values()}
        meter = CpuMeter(plan)
        meter.tail(0.0, limit=30)
        time.sleep(options.settle)
        sizes = rss_mb(meter)
    print(f"\n{'process':<22}{'kind':<10}{'RSS MB':>8}")
    for name, size in sorted(sizes.items(), key=lambda kv: (kinds[kv[0]] == "infra", -kv[1])):
        mark = "" if kinds[name] == "infra" else ("ok" if size <= RSS_GOAL_MB else "over")
        print(f"{name:<22}{kinds[name]:<10}{size:>8.0f}  {mark}")
    ours = [v for k, v in sizes.items() if kinds[k] != "infra"]
    print(f"\nWebOS processes: {len(ours)}, {sum(ours):.0f} MB in all (goal <= {RSS_GOAL_MB} MB each); "
          f"infrastructure {sum(v for k, v in sizes.items() if kinds[k] == 'infra'):.0f} MB")


if __name__ == "__main__":
    main()

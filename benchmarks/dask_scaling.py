"""Scaling of `essaymark batch --backend dask` on a local Dask cluster, against the local backend.

    python benchmarks/dask_scaling.py [--essays 1000] [--workers 1,2]

Essays are generated as in speed.py (recombined corpus paragraphs). For each worker count,
each backend marks the folder in a fresh `essaymark batch` process (`--backend dask -j N`
starts a LocalCluster of N single-threaded worker processes); start-up (cluster, workers,
model loading: the time to mark one essay) is measured separately and subtracted, as in
speed.py. Prints essays/s, the speed-up over the fewest workers, the CPU time per essay
(all processes, after start-up: what a shared machine's load does not inflate much), and
checks that the Dask markbook is byte-identical to the local one.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from speed import make_folder, timed


def run(folder: Path, out: Path, backend: str, workers: int) -> tuple[float, int, float]:
    """Wall seconds, peak memory (MB) and CPU seconds (every process) of one batch run."""
    # timed() reports the CPU of the command and all its children (workers included).
    return timed(["essaymark", "batch", str(folder), "-o", str(out), "--backend", backend,
                  "-j", str(workers)])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--essays", type=int, default=1000)
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",") if w]
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"load average {load[0]:.1f} at the start")  # fmt: skip
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        one, folder = Path(tmp) / "one", Path(tmp) / "many"
        make_folder(one, 1)
        make_folder(folder, args.essays)
        rates: dict[str, list[float]] = {"local": [], "dask": []}
        for n in counts:
            for backend in rates:
                startup, _, startup_cpu = run(one, Path(tmp) / f"o1-{backend}{n}", backend, n)
                wall, peak, cpu = run(folder, Path(tmp) / f"o-{backend}{n}", backend, n)
                rate = args.essays / max(wall - startup, 1e-6)
                rates[backend].append(rate)
                print(
                    f"{backend:>5}, {n} worker(s): {args.essays} essays in {wall:6.1f} s "
                    f"(start-up {startup:4.1f} s), {rate:5.1f} essays/s after start-up, "
                    f"speed-up {rate / rates[backend][0]:.2f}, "
                    f"CPU {(cpu - startup_cpu) / args.essays * 1000:.0f} ms/essay; "
                    f"peak {peak} MB (largest process)"
                )
            same = (Path(tmp) / f"o-dask{n}" / "marks.csv").read_bytes() == (
                Path(tmp) / f"o-local{n}" / "marks.csv"
            ).read_bytes()
            print(f"  dask markbook identical to local: {'yes' if same else 'NO'}")
    print(f"took {time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.1f} "
          "at the end")  # fmt: skip


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Speed A/B: two `twistcoach` binaries on the same trial, interleaved, `orientation` 9D and 6D;
prints wall and CPU time (user + system, all threads), minimum and median of --runs runs each.
For comparing two builds on a busy machine, where the minimum is the steadier number.

Usage:
  /work/.venv/bin/python scripts/speed_ab.py OLD_BIN NEW_BIN [--runs 30] [--trial PATH]
"""
import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('old', type=Path)
    ap.add_argument('new', type=Path)
    ap.add_argument('--runs', type=int, default=30)
    ap.add_argument('--trial', type=Path,
                    default=REPO.parent / 'shared' / 'data' / 'broad' / '24_disturbed_tapping_A.imu.csv.gz')
    a = ap.parse_args()
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / 'out.csv'
        for _ in range(a.runs):
            for name, binary in (('old', a.old), ('new', a.new)):
                for mode in ([], ['--no-mag']):
                    t0 = time.perf_counter()
                    p = subprocess.Popen([str(binary), 'orientation', str(a.trial), '-o', str(out), *mode])
                    _, status, usage = os.wait4(p.pid, 0)
                    wall = time.perf_counter() - t0
                    if os.waitstatus_to_exitcode(status) != 0:
                        raise SystemExit(f'{binary} failed')
                    res.setdefault((name, '6D' if mode else '9D'), []).append((wall, usage.ru_utime + usage.ru_stime))
    print(f'{a.trial.name}, {a.runs} interleaved runs each; 1-minute load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs')
    for (name, mode), v in sorted(res.items()):
        walls = sorted(x[0] for x in v)
        cpus = sorted(x[1] for x in v)
        print(f'{name} {mode}: wall min {1e3 * walls[0]:.1f} median {1e3 * walls[len(walls) // 2]:.1f} ms; '
              f'CPU min {1e3 * cpus[0]:.1f} median {1e3 * cpus[len(cpus) // 2]:.1f} ms')


if __name__ == '__main__':
    main()

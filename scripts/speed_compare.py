#!/usr/bin/env python3
"""Speed: the whole `twistcoach orientation` process (read the CSV, gzip or plain, parse, filter, write CSV)
versus the reference implementation's filter call alone (`vqf.VQF(Ts).updateBatch`, compiled C++, data already
in memory), on the longest BROAD trial: the `.csv.gz` file, and the same trial decompressed (once, before
timing) to a plain `.csv`. Median and minimum of --runs repetitions each (one warm-up run each), ours and
theirs interleaved; CPU time of our process is user + system over all threads (getrusage, as `perf stat`'s
task-clock).

Python is only an evaluation script here, never a runtime dependency of twistcoach.

Usage:
  python3 -m venv /work/.venv && /work/.venv/bin/pip install vqf numpy   # once
  cargo build --release
  /work/.venv/bin/python scripts/speed_compare.py [--runs 15] [--inputs both|gz|plain] [--callgrind]
      [--trial ../shared/data/broad/24_disturbed_tapping_A.imu.csv.gz] [--bin target/release/twistcoach]
"""
import argparse
import gzip
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import vqf

REPO = Path(__file__).resolve().parent.parent


def load(path):
    fs = None
    with gzip.open(path, 'rt') as f:
        text = f.read()
    lines = []
    for ln in text.splitlines():
        if ln.startswith('# sampling_rate_hz:'):
            fs = float(ln.split(':')[1].split()[0])
        if ln.strip() and not ln.startswith('#'):
            lines.append(ln)
    header = lines[0].split(',')
    data = np.loadtxt(io.StringIO('\n'.join(lines[1:])), delimiter=',', ndmin=2)
    c = {h: data[:, i] for i, h in enumerate(header)}
    if fs is None:
        fs = 1.0 / np.median(np.diff(c['t']))
    arr = lambda *k: np.ascontiguousarray(np.stack([c[x] for x in k], axis=1))
    return fs, arr('gx', 'gy', 'gz'), arr('ax', 'ay', 'az'), arr('mx', 'my', 'mz')


def timed(fn, runs):
    """Wall times of `runs` calls after one warm-up call."""
    fn()  # warm-up
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def run_process(cmd):
    """Run a command; return its CPU time (user + system, all threads) in seconds."""
    p = subprocess.Popen(cmd)
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise subprocess.CalledProcessError(p.returncode, cmd)
    return usage.ru_utime + usage.ru_stime




def instructions(cmd, out_file):
    """Instructions executed by `cmd`, all threads (valgrind --tool=callgrind's `summary:` line)."""
    subprocess.run(['valgrind', '--tool=callgrind', f'--callgrind-out-file={out_file}', *cmd],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for line in Path(out_file).read_text().splitlines():
        if line.startswith('summary:'):
            return int(line.split()[1])
    raise RuntimeError(f'no summary line in {out_file}')


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--trial', type=Path,
                    default=REPO.parent / 'shared' / 'data' / 'broad' / '24_disturbed_tapping_A.imu.csv.gz')
    ap.add_argument('--bin', type=Path, default=REPO / 'target' / 'release' / 'twistcoach')
    ap.add_argument('--runs', type=int, default=15)
    ap.add_argument('--inputs', choices=('both', 'gz', 'plain'), default='both',
                    help='time the .csv.gz trial, the same trial decompressed to a plain .csv, or both (default)')
    ap.add_argument('--callgrind', action='store_true',
                    help='also count the instructions of one run per mode and input (valgrind --tool=callgrind, '
                         'all threads; independent of the machine load)')
    a = ap.parse_args(argv)

    fs, gyr, acc, mag = load(a.trial)
    n = len(gyr)
    rows = []
    counts = []
    med = statistics.median
    with tempfile.TemporaryDirectory() as tmp:
        inputs = []
        if a.inputs in ('both', 'gz'):
            inputs.append(('.csv.gz', a.trial))
        if a.inputs in ('both', 'plain'):
            # Decompressed once, before any timing: the plain-CSV case reads it from the page cache.
            plain = Path(tmp) / a.trial.name.removesuffix('.gz')
            with gzip.open(a.trial, 'rb') as f:
                plain.write_bytes(f.read())
            inputs.append(('.csv', plain))
        for label, extra, mag_arg in (('9D', [], mag), ('6D', ['--no-mag'], None)):
            if mag_arg is None:
                theirs_call = lambda: vqf.VQF(1.0 / fs).updateBatch(gyr, acc)
            else:
                theirs_call = lambda: vqf.VQF(1.0 / fs).updateBatch(gyr, acc, mag_arg)
            for kind, path in inputs:
                out = Path(tmp) / 'out.csv'
                cmd = [str(a.bin), 'orientation', str(path), '-o', str(out), *extra]
                # Interleave ours and theirs so that both see the same machine load.
                ours, theirs, ours_cpu, theirs_cpu = [], [], [], []
                run_process(cmd)
                theirs_call()
                for _ in range(a.runs):
                    t0 = time.perf_counter()
                    ours_cpu.append(run_process(cmd))
                    ours.append(time.perf_counter() - t0)
                    t0, c0 = time.perf_counter(), time.process_time()
                    theirs_call()
                    theirs.append(time.perf_counter() - t0)
                    theirs_cpu.append(time.process_time() - c0)
                rows.append((label, kind, ours, theirs, ours_cpu, theirs_cpu))
                if a.callgrind:
                    counts.append((label, kind, instructions(cmd, Path(tmp) / 'callgrind.out')))
    spawn = timed(lambda: subprocess.run(['true'], check=True), a.runs)
    load_avg = os.getloadavg()
    print(f'{a.trial.name}: {n} samples at {fs:.1f} Hz; median (min) of {a.runs} interleaved runs after one warm-up; '
          f'starting a do-nothing process (`true`) from this script takes {1e3 * med(spawn):.1f} ms (included in our '
          f'times); load average {load_avg[0]:.2f} {load_avg[1]:.2f} {load_avg[2]:.2f} on {os.cpu_count()} CPUs\n')
    print('| mode | input | twistcoach orientation, whole process: wall median (min) | its CPU time, all threads: '
          'median (min) | vqf.VQF(Ts).updateBatch alone: wall median (min) | its CPU time | wall ratio theirs / ours: '
          'medians (minima) |')
    print('|---|---|---|---|---|---|---|')
    for label, kind, ours, theirs, ours_cpu, theirs_cpu in rows:
        om, omin, tm, tmin = med(ours), min(ours), med(theirs), min(theirs)
        print(f'| {label} | {kind} | {1e3 * om:.1f} ms ({1e3 * omin:.1f}) '
              f'| {1e3 * med(ours_cpu):.1f} ms ({1e3 * min(ours_cpu):.1f}) '
              f'| {1e3 * tm:.1f} ms ({1e3 * tmin:.1f}) | {1e3 * med(theirs_cpu):.1f} ms '
              f'| **{tm / om:.2f}** ({tmin / omin:.2f}) |')
    if counts:
        print('\n| mode | input | instructions, whole process, all threads (callgrind) |')
        print('|---|---|---|')
        for label, kind, n_instr in counts:
            print(f'| {label} | {kind} | {n_instr / 1e6:.1f} M |')
    return 0


if __name__ == '__main__':
    sys.exit(main())

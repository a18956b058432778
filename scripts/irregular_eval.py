#!/usr/bin/env python3
"""Irregular sampling on BROAD: how much orientation accuracy do jitter, dropped samples and 1 s gaps cost
`twistcoach orientation` (VQF integrating the gyroscope with each sample's own interval), compared with the plain
reference filter that assumes a fixed sample time (`vqf.VQF(Ts).updateBatch`, Ts = the stream's nominal rate)?

Irregular streams are derived from the 8 BROAD trials (285.7 Hz) by picking samples of the original recording, so
every picked sample keeps its true time and its optical ground truth:
  regular   every D-th sample (D = 3, 5, 10: 95.2, 57.1, 28.6 Hz)
  jitter    the k-th sample is taken at k·D + u, u uniform in {-r..r}, r = round(0.2·D) samples
            (peak jitter ±33 % of the interval at D = 3, ±20 % at D = 5 and 10)
  drops     regular, then 10 % of the samples dropped at random
  gaps      regular, then a 1 s gap every 10 s
  all       jitter + 5 % drops + a 1 s gap every 15 s
Scored with shared/data/broad/score.py's official metric (its functions, on the picked rows): 9D as is, 6D after
removing the constant heading offset. Cells: mean total RMSE over the 8 trials, degrees.

Python is only an evaluation script here, never a runtime dependency of twistcoach.

Usage:
  cargo build --release
  /work/.venv/bin/python scripts/irregular_eval.py [--data ../shared/data/broad] [--bin target/release/twistcoach]
"""
import argparse
import gzip
import io
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import vqf

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = ('regular', 'jitter', 'drops', 'gaps', 'all')
FACTORS = (3, 5, 10)


def read_text_rows(path):
    """Header and data rows (as text) of a CSV.gz, comments dropped."""
    with gzip.open(path, 'rt') as f:
        lines = [ln for ln in f.read().splitlines() if ln.strip() and not ln.startswith('#')]
    return lines[0], lines[1:]


def pick(n, t, factor, scenario, rng):
    """Indices of the original samples that make up the derived stream."""
    base = np.arange(0, n, factor)
    if scenario in ('jitter', 'all'):
        r = int(round(0.2 * factor))
        base = np.clip(base + rng.integers(-r, r + 1, len(base)), 0, n - 1)
        base = np.unique(base)
    keep = np.ones(len(base), bool)
    p_drop = {'drops': 0.10, 'all': 0.05}.get(scenario, 0.0)
    if p_drop:
        keep &= rng.random(len(base)) >= p_drop
    gap_every = {'gaps': 10.0, 'all': 15.0}.get(scenario)
    if gap_every:
        tb = t[base]
        keep &= ~((tb % gap_every >= gap_every - 1.0) & (tb > gap_every / 2))
    idx = base[keep]
    idx[0] = 0  # keep the first sample so every variant starts at the same time
    return np.unique(idx)


def score(est, truth_q, movement, mode, score_mod):
    if mode == '6d':
        scored = movement & np.isfinite(truth_q).all(axis=1)
        est = score_mod.remove_heading(est, score_mod.heading_offset(est, truth_q, scored))
    return score_mod.official_rmse(est, truth_q, movement)['total_rmse_deg']


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', type=Path, default=REPO.parent / 'shared' / 'data' / 'broad')
    ap.add_argument('--bin', type=Path, default=REPO / 'target' / 'release' / 'twistcoach')
    ap.add_argument('--seed', type=int, default=1)
    a = ap.parse_args(argv)
    sys.path.insert(0, str(a.data))
    import score as score_mod  # shared/data/broad/score.py: the official metric

    trials = sorted(p.name.replace('.imu.csv.gz', '') for p in a.data.glob('*.imu.csv.gz'))
    fs = 2000.0 / 7.0
    # results[(scenario, factor, mode, method)] = list of per-trial total RMSE
    results = {}
    stats = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for trial in trials:
            header, rows = read_text_rows(a.data / f'{trial}.imu.csv.gz')
            data = np.loadtxt(io.StringIO('\n'.join(rows)), delimiter=',', ndmin=2)
            t = data[:, 0]
            acc, gyr, mag = data[:, 1:4], data[:, 4:7], data[:, 7:10]
            truth = score_mod.read_csv(a.data / f'{trial}.truth.csv.gz')
            truth_q = np.stack([truth['qw'], truth['qx'], truth['qy'], truth['qz']], axis=1)
            movement = truth['movement'] == 1
            rng = np.random.default_rng(a.seed)
            for factor in FACTORS:
                ts = factor / fs
                for scenario in SCENARIOS:
                    idx = pick(len(t), t, factor, scenario, rng)
                    dt = np.diff(t[idx])
                    st = stats.setdefault((scenario, factor), [])
                    st.append((len(idx), dt.min() / ts, dt.max() / ts))
                    imu_path = tmp / 'in.csv'
                    imu_path.write_text(header + '\n' + '\n'.join(rows[i] for i in idx) + '\n')
                    c = np.ascontiguousarray
                    ref9 = vqf.VQF(ts).updateBatch(c(gyr[idx]), c(acc[idx]), c(mag[idx]))
                    ref6 = vqf.VQF(ts).updateBatch(c(gyr[idx]), c(acc[idx]))
                    for mode, flags, ref in (('9d', [], ref9['quat9D']), ('6d', ['--no-mag'], ref6['quat6D'])):
                        out = tmp / 'out.csv'
                        subprocess.run([str(a.bin), 'orientation', str(imu_path), '-o', str(out), *flags],
                                       check=True)
                        ours = np.loadtxt(out, delimiter=',', skiprows=1, ndmin=2)[:, 1:5]
                        for method, est in (('ours', ours), ('fixed', ref)):
                            r = score(est, truth_q[idx], movement[idx], mode, score_mod)
                            results.setdefault((scenario, factor, mode, method), []).append(r)
            print(f'<!-- {trial} done -->', file=sys.stderr, flush=True)

    print('Mean total RMSE over the 8 BROAD trials, degrees (score.py metric; 6D after heading-offset removal).')
    print('"per-sample dt" = twistcoach orientation; "fixed Ts" = vqf.VQF(Ts).updateBatch with Ts = D/285.7 s.\n')
    print('| stream | rate | samples kept | interval / nominal (min–max) | 9D per-sample dt | 9D fixed Ts '
          '| 6D per-sample dt | 6D fixed Ts |')
    print('|---|---|---|---|---|---|---|---|')
    for scenario in SCENARIOS:
        for factor in FACTORS:
            st = stats[(scenario, factor)]
            lo = min(s[1] for s in st)
            hi = max(s[2] for s in st)
            cells = [np.mean(results[(scenario, factor, m, meth)]) for m in ('9d', '6d') for meth in ('ours', 'fixed')]
            n_full = np.mean([s[0] for s in stats[('regular', factor)]])
            print(f'| {scenario} | {fs / factor:.1f} Hz | {100 * np.mean([s[0] for s in st]) / n_full:.0f} % '
                  f'| {lo:.2f}–{hi:.2f} | ' + ' | '.join(f'{v:.2f}' for v in cells) + ' |')
    return 0


if __name__ == '__main__':
    sys.exit(main())

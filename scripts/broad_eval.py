#!/usr/bin/env python3
"""BROAD accuracy of `twistcoach orientation`: run the release binary on the 8 development trials in four
configurations (causal 9D, causal 6D = --no-mag, offline 9D, offline 6D = --offline [--no-mag]), score each
with shared/data/broad/score.py (9d mode for 9D, --mode 6d for 6D) and print markdown tables next to the
reference numbers from shared/data/broad/reference_dev.json.

Python is only an evaluation script here, never a runtime dependency of twistcoach.

Usage:
  cargo build --release
  /work/.venv/bin/python scripts/broad_eval.py [--data ../shared/data/broad] [--bin target/release/twistcoach]
      [--out-dir DIR]   # keep the estimates (default: a temporary directory)
      [--configs causal9d causal6d offline9d offline6d]

Exit status 1 if the causal 9D or 6D mean total RMSE is more than 2 % above reference VQF (vqf9d / vqf6d).
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
METRICS = ('total_rmse_deg', 'heading_rmse_deg', 'inclination_rmse_deg')
# our configuration -> (extra CLI flags, score.py mode, reference method to compare with)
CONFIGS = {
    'causal9d': ([], '9d', 'vqf9d'),
    'causal6d': (['--no-mag'], '6d', 'vqf6d'),
    'offline9d': (['--offline'], '9d', 'offline_vqf9d'),
    'offline6d': (['--offline', '--no-mag'], '6d', 'offline_vqf6d'),
}
REFERENCE_ROWS = ['vqf9d', 'vqf6d', 'offline_vqf9d', 'offline_vqf6d', 'madgwick9d', 'madgwick6d']
TOLERANCE = 0.02  # causal mean total RMSE may be at most 2 % above reference VQF


def cell(r):
    return ' / '.join(f'{r[m]:.2f}' for m in METRICS)


def run_config(binary, data, trials, out_dir, name):
    flags, mode, _ = CONFIGS[name]
    est_dir = out_dir / name
    est_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for trial in trials:
        subprocess.run([str(binary), 'orientation', str(data / f'{trial}.imu.csv.gz'),
                        '-o', str(est_dir / f'{trial}.est.csv'), *flags], check=True)
    elapsed = time.perf_counter() - t0
    json_path = out_dir / f'{name}.score.json'
    subprocess.run([sys.executable, str(data / 'score.py'), str(est_dir), '--truth-dir', str(data),
                    '--mode', mode, '--json', str(json_path), '--quiet'], check=True, stdout=subprocess.DEVNULL)
    return json.loads(json_path.read_text()), elapsed


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', type=Path, default=REPO.parent / 'shared' / 'data' / 'broad')
    ap.add_argument('--bin', type=Path, default=REPO / 'target' / 'release' / 'twistcoach')
    ap.add_argument('--out-dir', type=Path)
    ap.add_argument('--configs', nargs='*', default=list(CONFIGS), choices=list(CONFIGS))
    a = ap.parse_args(argv)

    ref = json.loads((a.data / 'reference_dev.json').read_text())
    trials = ref['trials']
    tmp = None
    if a.out_dir is None:
        tmp = tempfile.TemporaryDirectory()
        out_dir = Path(tmp.name)
    else:
        out_dir = a.out_dir
        out_dir.mkdir(parents=True, exist_ok=True)

    ours = {}
    for name in a.configs:
        scores, elapsed = run_config(a.bin, a.data, trials, out_dir, name)
        if scores['n_failed']:
            print(f'{name}: {scores["n_failed"]} trial(s) failed scoring', file=sys.stderr)
        ours[name] = scores
        print(f'<!-- {name}: 8 trials in {elapsed:.1f} s -->', file=sys.stderr)

    print('Mean over the 8 trials, total / heading / inclination RMSE in degrees (score.py; 6D rows with --mode 6d):\n')
    print('| method | scored as | all 8 | undisturbed (4) | disturbed (4) |')
    print('|---|---|---|---|---|')
    for name, s in ours.items():
        g = s['groups']
        print(f'| **twistcoach {name}** | {CONFIGS[name][1]} | {cell(g["all_trials"])} | {cell(g["undisturbed"])} | '
              f'{cell(g["disturbed"])} |')
    for m in REFERENCE_ROWS:
        g = ref['methods'][m]['scores']
        print(f'| {m} (reference) | {ref["methods"][m]["mode"]} | {cell(g["all_trials"])} | {cell(g["undisturbed"])} '
              f'| {cell(g["disturbed"])} |')

    print('\nPer trial, total / heading / inclination RMSE in degrees:\n')
    cols = [(f'twistcoach {n}', ours[n]['trials']) for n in ours]
    cols += [(m, ref['methods'][m]['trials']) for m in ('vqf9d', 'vqf6d', 'offline_vqf9d', 'offline_vqf6d')]
    print('| trial | ' + ' | '.join(c for c, _ in cols) + ' |')
    print('|---|' + '---|' * len(cols))
    for t in trials:
        print(f'| {t} | ' + ' | '.join(cell(tr[t]) for _, tr in cols) + ' |')

    ok = True
    print()
    for name in ('causal9d', 'causal6d'):
        if name not in ours:
            continue
        mine = ours[name]['groups']['all_trials']['total_rmse_deg']
        refm = CONFIGS[name][2]
        theirs = ref['methods'][refm]['scores']['all_trials']['total_rmse_deg']
        ratio = mine / theirs
        good = ratio <= 1 + TOLERANCE
        ok &= good
        print(f'- {name}: mean total RMSE {mine:.4f} deg vs {refm} {theirs:.4f} deg: ratio {ratio:.4f} '
              f'({"within" if good else "NOT within"} {100 * TOLERANCE:.0f} %)')
    for name in ('offline9d', 'offline6d'):
        if name in ours:
            mine = ours[name]['groups']['all_trials']['total_rmse_deg']
            refm = CONFIGS[name][2]
            theirs = ref['methods'][refm]['scores']['all_trials']['total_rmse_deg']
            print(f'- {name}: mean total RMSE {mine:.4f} deg vs {refm} {theirs:.4f} deg: ratio {mine / theirs:.4f}')
    if tmp:
        tmp.cleanup()
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())

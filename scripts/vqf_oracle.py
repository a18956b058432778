#!/usr/bin/env python3
"""Test oracle: compare twistcoach's VQF (vqf-rs wrapped in src/orientation/mod.rs) with the reference
implementation by the VQF authors (PyPI `vqf` 2.1.2, `vqf.VQF(Ts).updateBatch`, compiled C++).

Python is only a test oracle here, never a runtime dependency of twistcoach.

Subcommands:
  fixture OUT_DIR   Generate a short synthetic 9D recording (100 Hz, 60 s: gyro noise + constant bias, rest
                    phases, motion, linear acceleration, two magnetic disturbances) and the reference outputs.
                    Writes OUT_DIR/input.imu.csv.gz and OUT_DIR/expected.csv.gz; tests/vqf_parity.rs checks
                    them without Python (`cargo test --release --test vqf_parity`).
  broad             Run `twistcoach orientation` (9D and --no-mag) on every BROAD trial and compare with
                    vqf.VQF(Ts).updateBatch(...)["quat9D"/"quat6D"] on the same data; print the largest angle
                    difference per trial. Exit status 1 if any exceeds --tolerance-deg.

Examples:
  /work/.venv/bin/python scripts/vqf_oracle.py fixture fixtures/vqf_parity
  cargo build --release && /work/.venv/bin/python scripts/vqf_oracle.py broad --data ../shared/data/broad
"""
import argparse
import gzip
import io
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import vqf

REPO = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- quaternion helpers (Hamilton, w first)
def qmul(a, b):
    aw, ax, ay, az = np.moveaxis(np.asarray(a), -1, 0)
    bw, bx, by, bz = np.moveaxis(np.asarray(b), -1, 0)
    return np.stack([aw * bw - ax * bx - ay * by - az * bz,
                     aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw], axis=-1)


def qconj(q):
    return np.asarray(q) * np.array([1.0, -1.0, -1.0, -1.0])


def rotate_world_to_sensor(q_world_from_sensor, v_world):
    """v_sensor = q* ⊗ v_world ⊗ q for each row."""
    v = np.concatenate([np.zeros((len(v_world), 1)), v_world], axis=1)
    return qmul(qmul(qconj(q_world_from_sensor), v), q_world_from_sensor)[:, 1:]


def angle_deg(q1, q2):
    """Rotation angle between two quaternion arrays, sign-invariant, in degrees. atan2 of the vector and scalar
    parts of q1* ⊗ q2 stays accurate for tiny angles, where 2·acos(|q1·q2|) bottoms out near 3e-6 deg."""
    q1 = q1 / np.linalg.norm(q1, axis=1)[:, None]
    q2 = q2 / np.linalg.norm(q2, axis=1)[:, None]
    d = qmul(qconj(q1), q2)
    return np.degrees(2.0 * np.arctan2(np.linalg.norm(d[:, 1:], axis=1), np.abs(d[:, 0])))


def round7(x):
    """Round to 7 significant digits exactly as the CSV will store it (like BROAD)."""
    return np.vectorize(lambda v: float(f'{v:.7g}'))(x)


# ---------------------------------------------------------------- fixture
def synth(fs=100.0, duration_s=60.0, seed=7):
    """Synthetic 9D recording with rest phases, motion, gyro bias, noise and magnetic disturbances."""
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * fs))
    ts = 1.0 / fs
    t = np.arange(n) * ts
    moving = ((t >= 5) & (t < 20)) | ((t >= 24) & (t < 36)) | ((t >= 40) & (t < 60))
    # smooth angular velocity (rad/s) as sums of sines, faded in/out at phase edges
    w = np.zeros((n, 3))
    for k, (a, f, p) in enumerate([(1.6, 0.31, 0.0), (1.1, 0.47, 1.0), (2.0, 0.23, 2.0)]):
        w[:, k] = a * np.sin(2 * np.pi * f * t + p) + 0.4 * a * np.sin(2 * np.pi * 1.3 * f * t + 2 * p)
    fade = np.convolve(moving.astype(float), np.ones(50) / 50, mode='same')
    w *= fade[:, None]
    # true orientation by exact integration of the piecewise-constant rate
    q = np.zeros((n, 4))
    cur = np.array([0.9, 0.1, -0.3, 0.2])
    cur /= np.linalg.norm(cur)
    for i in range(n):
        q[i] = cur
        ang = np.linalg.norm(w[i]) * ts
        if ang > 0:
            ax = w[i] / np.linalg.norm(w[i])
            dq = np.concatenate([[math.cos(ang / 2)], math.sin(ang / 2) * ax])
            cur = qmul(cur, dq)
            cur /= np.linalg.norm(cur)
    g_world = np.array([0.0, 0.0, 9.81])
    lin_acc_world = 0.8 * np.stack([np.sin(2 * np.pi * 0.9 * t), np.cos(2 * np.pi * 0.7 * t),
                                    np.sin(2 * np.pi * 1.1 * t)], axis=1) * fade[:, None]
    m_world = np.tile([0.0, 18.0, -40.0], (n, 1))
    # disturbance 1: short (6 s), changes the field norm; disturbance 2: long (> magNewTime = 20 s), so the
    # filter eventually accepts it as the new field.
    m_world[(t >= 28) & (t < 34)] += np.array([25.0, -10.0, 5.0])
    m_world[t >= 38] += np.array([-12.0, 20.0, 15.0])
    bias = np.array([0.012, -0.02, 0.015])
    gyr = w + bias + rng.normal(0, 0.004, (n, 3))
    acc = rotate_world_to_sensor(q, g_world + lin_acc_world) + rng.normal(0, 0.04, (n, 3))
    mag = rotate_world_to_sensor(q, m_world) + rng.normal(0, 0.4, (n, 3))
    return t, round7(acc), round7(gyr), round7(mag), q


def reference(gyr, acc, mag, ts):
    """Reference outputs: 9D run (quat9D, flags, bias) and a separate 6D run without magnetometer."""
    c = np.ascontiguousarray
    out9 = vqf.VQF(ts).updateBatch(c(gyr), c(acc), c(mag))
    out6 = vqf.VQF(ts).updateBatch(c(gyr), c(acc))
    return out9, out6


def cmd_fixture(a):
    out = Path(a.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fs = a.rate_hz
    t, acc, gyr, mag, _q_true = synth(fs=fs, duration_s=a.duration_s)
    out9, out6 = reference(gyr, acc, mag, 1.0 / fs)
    t_text = [f'{x:.2f}' if fs <= 100 else f'{x:.4f}' for x in t]
    buf = io.StringIO()
    buf.write(f'# synthetic 9D recording for VQF parity, {fs:g} Hz, made by scripts/vqf_oracle.py fixture\n')
    buf.write('t,ax,ay,az,gx,gy,gz,mx,my,mz\n')
    for i in range(len(t)):
        vals = np.concatenate([acc[i], gyr[i], mag[i]])
        buf.write(t_text[i] + ',' + ','.join(f'{v:.7g}' for v in vals) + '\n')
    write_gz(out / 'input.imu.csv.gz', buf.getvalue())
    buf = io.StringIO()
    buf.write(f'# reference outputs of vqf {vqf_version()} vqf.VQF(Ts={1.0 / fs!r}).updateBatch on input.imu.csv.gz;'
              ' q9 from the 9D run, q6/bias6/rest6 from a run without magnetometer\n')
    buf.write('t,q9w,q9x,q9y,q9z,q6w,q6x,q6y,q6z,rest,mag_dist,bias_x,bias_y,bias_z\n')
    for i in range(len(t)):
        vals = list(out9['quat9D'][i]) + list(out6['quat6D'][i])
        buf.write(t_text[i] + ',' + ','.join(f'{v:.9g}' for v in vals)
                  + f',{int(out9["restDetected"][i])},{int(out9["magDistDetected"][i])},'
                  + ','.join(f'{v:.5g}' for v in out6['bias'][i]) + '\n')
    write_gz(out / 'expected.csv.gz', buf.getvalue())
    rest = out9['restDetected'].mean()
    dist = out9['magDistDetected'].mean()
    print(f'wrote {out}/input.imu.csv.gz and expected.csv.gz: {len(t)} samples at {fs:g} Hz; '
          f'rest detected {100 * rest:.1f} %, mag disturbance detected {100 * dist:.1f} % of samples; '
          f'final bias estimate {out6["bias"][-1]} rad/s (true [0.012, -0.02, 0.015])')


def write_gz(path, text):
    with gzip.GzipFile(path, 'wb', mtime=0) as f:  # mtime=0: reproducible bytes
        f.write(text.encode())


def vqf_version():
    try:
        from importlib.metadata import version
        return version('vqf')
    except Exception:
        return '?'


# ---------------------------------------------------------------- BROAD
def read_csv(path):
    opener = gzip.open if str(path).endswith('.gz') else open
    with opener(path, 'rt') as f:
        lines = [ln for ln in f.read().splitlines() if ln.strip() and not ln.startswith('#')]
    header = lines[0].split(',')
    data = np.loadtxt(io.StringIO('\n'.join(lines[1:])), delimiter=',', ndmin=2)
    return {h: data[:, i] for i, h in enumerate(header)}


def sampling_rate(path):
    with gzip.open(path, 'rt') as f:
        for ln in f:
            if ln.startswith('# sampling_rate_hz:'):
                return float(ln.split(':')[1].split()[0])
            if not ln.startswith('#'):
                break
    return None


def cmd_broad(a):
    data = Path(a.data)
    binary = Path(a.bin)
    trials = sorted(p.name.replace('.imu.csv.gz', '') for p in data.glob('*.imu.csv.gz'))
    worst = 0.0
    print(f'| trial | samples | max Δ 9D (deg) | max Δ 6D (deg) | mean Δ 9D | mean Δ 6D |')
    print('|---|---|---|---|---|---|')
    with tempfile.TemporaryDirectory() as tmp:
        for name in trials:
            imu_path = data / f'{name}.imu.csv.gz'
            c = read_csv(imu_path)
            fs = sampling_rate(imu_path)
            gyr = np.stack([c['gx'], c['gy'], c['gz']], axis=1)
            acc = np.stack([c['ax'], c['ay'], c['az']], axis=1)
            mag = np.stack([c['mx'], c['my'], c['mz']], axis=1)
            out9, out6 = reference(gyr, acc, mag, 1.0 / fs)
            res = {}
            for mode, extra, ref in (('9d', [], out9['quat9D']), ('6d', ['--no-mag'], out6['quat6D'])):
                est_path = Path(tmp) / f'{name}.{mode}.csv'
                subprocess.run([str(binary), 'orientation', str(imu_path), '-o', str(est_path), *extra], check=True)
                e = read_csv(est_path)
                ours = np.stack([e['qw'], e['qx'], e['qy'], e['qz']], axis=1)
                assert len(ours) == len(ref), (name, mode, len(ours), len(ref))
                d = angle_deg(ours, ref)
                res[mode] = (d.max(), d.mean(), int(d.argmax()))
            worst = max(worst, res['9d'][0], res['6d'][0])
            print(f'| {name} | {len(gyr)} | {res["9d"][0]:.2e} (at {res["9d"][2]}) | {res["6d"][0]:.2e} '
                  f'(at {res["6d"][2]}) | {res["9d"][1]:.1e} | {res["6d"][1]:.1e} |', flush=True)
    print(f'\nlargest difference over all trials: {worst:.3e} deg (tolerance {a.tolerance_deg} deg)')
    return 0 if worst <= a.tolerance_deg else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    f = sub.add_parser('fixture')
    f.add_argument('out_dir')
    f.add_argument('--rate-hz', type=float, default=100.0)
    f.add_argument('--duration-s', type=float, default=60.0)
    b = sub.add_parser('broad')
    b.add_argument('--data', default=str(REPO.parent / 'shared' / 'data' / 'broad'))
    b.add_argument('--bin', default=str(REPO / 'target' / 'release' / 'twistcoach'))
    b.add_argument('--tolerance-deg', type=float, default=0.01)
    a = ap.parse_args(argv)
    if a.cmd == 'fixture':
        cmd_fixture(a)
        return 0
    return cmd_broad(a)


if __name__ == '__main__':
    sys.exit(main())

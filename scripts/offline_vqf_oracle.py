#!/usr/bin/env python3
"""Test oracle for the offline VQF port (src/orientation/offline_vqf.rs).

Writes a short, evenly sampled synthetic IMU recording and the output of the reference
offline VQF (PyPI `vqf` 2.1.2, `vqf.offlineVQF`, default parameters) for it, 6D and 9D,
into fixtures/offline_vqf_parity/. `cargo test --release --test offline_vqf_parity`
compares our port with these files, without Python.

The recording (45 s at 100 Hz) has sensor noise, a constant gyroscope bias of about
1 °/s, rests (start, middle, end), rotations about all axes with some translation, and a
magnetic disturbance (a field offset between 24 s and 30 s).

The input is rounded to 7 significant digits *before* it is given to offlineVQF, so the
CSV our test reads holds exactly the values the reference saw.

Usage (from the repository root):
    /work/.venv/bin/python scripts/offline_vqf_oracle.py            # rewrite the fixtures
    /work/.venv/bin/python scripts/offline_vqf_oracle.py --check    # only report, write nothing
Python is a test oracle only; nothing at run time depends on it.
"""

import argparse
import gzip
import io
import os
import sys

import numpy as np
import vqf

FS_HZ = 100.0
DURATION_S = 45.0
SEED = 20231
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "offline_vqf_parity")


def quat_mul(a, b):
    w1, x1, y1, z1 = a
    w2, x2, y2, z2 = b
    return np.array([
        w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
        w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
        w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
        w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
    ])


def quat_rotate_inv(q, v):
    """Rotate world vector v into the sensor frame (q = q_world_from_sensor)."""
    w, x, y, z = q
    qc = np.array([w, -x, -y, -z])
    p = quat_mul(quat_mul(qc, np.array([0.0, *v])), q)
    return p[1:]


def smooth_window(t, t0, t1, ramp=0.5):
    """1 inside [t0, t1], smooth cosine ramps of `ramp` s at both ends, 0 outside."""
    up = np.clip((t - t0) / ramp, 0, 1)
    down = np.clip((t1 - t) / ramp, 0, 1)
    return (0.5 - 0.5 * np.cos(np.pi * up)) * (0.5 - 0.5 * np.cos(np.pi * down))


def make_recording():
    rng = np.random.default_rng(SEED)
    n = int(DURATION_S * FS_HZ)
    t = np.arange(n) / FS_HZ
    ts = 1.0 / FS_HZ

    # True angular rate (world-independent, sensor frame), rad/s: two motion phases.
    m1 = smooth_window(t, 4.0, 14.0)
    m2 = smooth_window(t, 19.0, 38.0)
    w = np.zeros((n, 3))
    w[:, 0] = m1 * 1.2 * np.sin(2 * np.pi * 0.31 * t) + m2 * 0.9 * np.sin(2 * np.pi * 0.23 * t + 1.0)
    w[:, 1] = m1 * 0.8 * np.sin(2 * np.pi * 0.47 * t + 0.5) + m2 * 1.4 * np.sin(2 * np.pi * 0.37 * t)
    w[:, 2] = m1 * 1.5 * np.sin(2 * np.pi * 0.19 * t + 2.0) + m2 * 2.0 * np.sin(2 * np.pi * 0.13 * t + 0.3)

    # Integrate the true orientation (start tilted and turned).
    q = np.array([np.cos(0.3), np.sin(0.3) * 0.6, np.sin(0.3) * 0.0, np.sin(0.3) * 0.8])
    q /= np.linalg.norm(q)
    quats = np.zeros((n, 4))
    for i in range(n):
        quats[i] = q
        wn = np.linalg.norm(w[i])
        if wn > 0:
            a = wn * ts
            dq = np.array([np.cos(a / 2), *(np.sin(a / 2) * w[i] / wn)])
            q = quat_mul(q, dq)
            q /= np.linalg.norm(q)

    g_world = np.array([0.0, 0.0, 9.81])
    lin_acc_world = np.zeros((n, 3))
    lin_acc_world[:, 0] = m2 * 1.5 * np.sin(2 * np.pi * 0.9 * t)
    lin_acc_world[:, 1] = m1 * 1.0 * np.sin(2 * np.pi * 1.3 * t)
    mag_world = np.array([0.0, 15.6, -41.0])  # ENU, µT (Berlin-like)
    dist = smooth_window(t, 24.0, 30.0, ramp=1.0)[:, None] * np.array([25.0, -10.0, 15.0])

    acc = np.array([quat_rotate_inv(quats[i], g_world + lin_acc_world[i]) for i in range(n)])
    mag = np.array([quat_rotate_inv(quats[i], mag_world) for i in range(n)]) + dist

    gyr_bias = np.array([0.8, -1.1, 0.5]) * np.pi / 180
    gyr = w + gyr_bias + rng.normal(0, 0.004, (n, 3))
    acc = acc + rng.normal(0, 0.03, (n, 3))
    mag = mag + rng.normal(0, 0.3, (n, 3))
    return t, gyr, acc, mag


def round7(a):
    return np.array([float(f"{x:.7g}") for x in a.ravel()]).reshape(a.shape)


def csv_gz(header, rows, fmt):
    buf = io.StringIO()
    buf.write(header + "\n")
    for r in rows:
        buf.write(",".join(fmt % v for v in r) + "\n")
    # mtime=0: the same data always gives the same bytes
    return gzip.compress(buf.getvalue().encode(), mtime=0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="print a summary, write nothing")
    args = ap.parse_args()

    t, gyr, acc, mag = make_recording()
    gyr, acc, mag = round7(gyr), round7(acc), round7(mag)
    ts = 1.0 / FS_HZ
    out9 = vqf.offlineVQF(np.ascontiguousarray(gyr), np.ascontiguousarray(acc), np.ascontiguousarray(mag), ts)
    out6 = vqf.offlineVQF(np.ascontiguousarray(gyr), np.ascontiguousarray(acc), None, ts)

    from importlib.metadata import version
    print(f"vqf {version('vqf')}: {len(t)} samples at {FS_HZ} Hz")
    print(f"rest samples: {int(out9['restDetected'].sum())}, mag-disturbed samples: {int(out9['magDistDetected'].sum())}")
    print(f"final bias estimate (°/s): {np.degrees(out9['bias'][-1])}")
    d6 = np.max(np.abs(out6["quat6D"] - out9["quat6D"]))
    print(f"6D output with vs without mag: max |Δq| = {d6:.3g}")
    if args.check:
        return 0

    os.makedirs(OUT_DIR, exist_ok=True)
    imu_rows = np.column_stack([t, acc, gyr, mag])
    with open(os.path.join(OUT_DIR, "input.imu.csv.gz"), "wb") as f:
        f.write(csv_gz("t,ax,ay,az,gx,gy,gz,mx,my,mz", imu_rows, "%.7g"))
    expected_rows = np.column_stack([
        t, out6["quat6D"], out9["quat9D"], out9["delta"], out9["bias"],
        out9["restDetected"].astype(float), out9["magDistDetected"].astype(float),
    ])
    header = "t,q6w,q6x,q6y,q6z,q9w,q9x,q9y,q9z,delta_rad,bias_x_rps,bias_y_rps,bias_z_rps,rest,mag_dist"
    with open(os.path.join(OUT_DIR, "expected.csv.gz"), "wb") as f:
        f.write(csv_gz(header, expected_rows, "%.8g"))
    print(f"wrote {OUT_DIR}/input.imu.csv.gz and expected.csv.gz")
    return 0


if __name__ == "__main__":
    sys.exit(main())

//! Simulated sensors: what a worn IMU (raw) or an IMU with on-board fusion (orientation)
//! would output for the simulated body motion, as spec §5 CSV text.
//!
//! Raw IMU: specific force (gravity + the sensor's linear acceleration), gyroscope with
//! bias (offset, slow drift, sudden steps), scale errors and noise, magnetometer with hard
//! iron and long disturbances; timestamps with jitter and dropouts. Orientation:
//! `q_world_from_sensor` from an on-board filter with an arbitrary, drifting heading, small
//! tilt error and noise, optionally at 20–30 Hz with int16-quantised components.
//! Pure: returns text; writing files is the command's job.

use std::fmt::Write as _;

use super::motion::{Plan, acceleration_mps2, angular_rate_local_rps, q_body_from_sensor, rx, ry, rz};
use super::rng::Rng;
use crate::body::Placement;
use crate::frames::{Quat, Vec3, add, scale};

const DEG: f64 = std::f64::consts::PI / 180.0;
const GRAVITY_MPS2: f64 = 9.81;

/// Input format of a simulated stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Raw,
    Orientation,
}

/// Harder-than-usual sensor conditions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HardCases {
    /// Gyro bias up to 1.5°/s with sudden steps during the session.
    pub gyro_bias_steps: bool,
    /// Gyro scale errors of 3–5 %.
    pub scale_errors: bool,
    /// Long magnetic disturbances (20–60 s, 15–40 µT).
    pub mag_disturbance: bool,
    /// Orientation streams at 20–30 Hz with int16-quantised quaternions.
    pub low_rate_quantized: bool,
    /// Dropouts of 1–3 s (inside reps too).
    pub long_dropouts: bool,
    /// Orientation streams: the on-board fusion's heading jumps by 3–10° now and then
    /// (a magnetometer correction or a reset).
    pub heading_jumps: bool,
    /// The sensor turns on the skin with the segment (3–6 % of the twist): soft-tissue
    /// artefact, which no analysis can remove.
    pub skin_motion: bool,
}

impl HardCases {
    pub fn names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.gyro_bias_steps {
            v.push("bias-steps");
        }
        if self.scale_errors {
            v.push("scale-errors");
        }
        if self.mag_disturbance {
            v.push("mag-disturbance");
        }
        if self.low_rate_quantized {
            v.push("low-rate");
        }
        if self.long_dropouts {
            v.push("dropouts");
        }
        if self.heading_jumps {
            v.push("heading-jumps");
        }
        if self.skin_motion {
            v.push("skin-motion");
        }
        v
    }

    pub fn parse(name: &str, into: &mut HardCases) -> bool {
        match name {
            "bias-steps" => into.gyro_bias_steps = true,
            "scale-errors" => into.scale_errors = true,
            "mag-disturbance" => into.mag_disturbance = true,
            "low-rate" => into.low_rate_quantized = true,
            "dropouts" => into.long_dropouts = true,
            "heading-jumps" => into.heading_jumps = true,
            "skin-motion" => into.skin_motion = true,
            _ => return false,
        }
        true
    }
}

/// What one simulated sensor is like.
#[derive(Debug, Clone)]
pub struct SensorOptions {
    pub placement: Placement,
    pub format: Format,
    /// Sample rate (None: drawn per stream).
    pub rate_hz: Option<f64>,
    /// Raw streams: include a magnetometer (None: drawn).
    pub with_mag: Option<bool>,
    pub hard: HardCases,
    /// No sensor errors at all (bias, scale, noise, drift, jitter, dropouts).
    pub ideal: bool,
}

/// One simulated stream as CSV text, with what was done to it.
#[derive(Debug, Clone)]
pub struct SimStream {
    pub placement: Placement,
    pub format: Format,
    pub rate_hz: f64,
    pub csv: String,
    pub description: Vec<String>,
    /// Gaps over 1 s (start, end), session time.
    pub gaps_s: Vec<(f64, f64)>,
    pub t_first_s: f64,
    pub t_last_s: f64,
}

/// Sample times over [t_begin, t_end] with jitter and dropouts (none in the first 4 s).
fn sample_times(
    rng: &mut Rng,
    t_begin: f64,
    t_end: f64,
    rate_hz: f64,
    hard: &HardCases,
    ideal: bool,
) -> (Vec<f64>, Vec<(f64, f64)>, Vec<String>) {
    let dt = 1.0 / rate_hz;
    let offset = rng.uniform(0.0, 0.05);
    let jitter = if ideal { 0.0 } else { rng.uniform(0.02, 0.2) * dt };
    let mut drops: Vec<(f64, f64)> = Vec::new();
    let mut notes = Vec::new();
    let span = t_end - t_begin;
    let n_short = if ideal { 0 } else { rng.int(0, 2) };
    for _ in 0..n_short {
        let s = t_begin + rng.uniform(5.0, (span - 2.0).max(5.5));
        drops.push((s, s + rng.uniform(0.05, 0.5)));
    }
    if hard.long_dropouts && !ideal {
        for _ in 0..rng.int(1, 3) {
            let s = t_begin + rng.uniform(6.0, (span - 5.0).max(6.5));
            drops.push((s, s + rng.uniform(1.2, 3.0)));
        }
    }
    drops.sort_by(|a, b| a.0.total_cmp(&b.0));
    for d in &drops {
        notes.push(format!("dropout {:.2} s at {:.1} s", d.1 - d.0, d.0));
    }
    let mut t = Vec::new();
    let mut k = 0u64;
    loop {
        let tk = t_begin + offset + k as f64 * dt + rng.uniform(-jitter, jitter);
        k += 1;
        if tk > t_end {
            break;
        }
        if drops.iter().any(|(a, b)| tk >= *a && tk < *b) {
            continue;
        }
        // Round as written (5 decimals) so that the file is the truth's time axis.
        let tk = (tk * 1e5).round() / 1e5;
        if t.last().is_none_or(|last| tk > *last) {
            t.push(tk);
        }
    }
    let gaps = t
        .windows(2)
        .filter(|w| w[1] - w[0] > 1.0)
        .map(|w| (w[0], w[1]))
        .collect();
    (t, gaps, notes)
}

/// A piecewise-constant-plus-linear signal: offset, slope per second, and steps.
struct Drift {
    offset: Vec3,
    slope_per_s: Vec3,
    steps: Vec<(f64, Vec3)>,
    t0: f64,
}

impl Drift {
    /// The value at `t`, each axis kept within ±`limit`.
    fn at(&self, t: f64, limit: f64) -> Vec3 {
        let mut v = add(self.offset, scale(self.slope_per_s, t - self.t0));
        for (ts, s) in &self.steps {
            if t >= *ts {
                v = add(v, *s);
            }
        }
        v.map(|x| x.clamp(-limit, limit))
    }
}

/// Largest gyroscope bias on any axis (1.5°/s).
const GYR_BIAS_MAX_RPS: f64 = 1.5 * DEG;

fn rand3(rng: &mut Rng, amp: f64) -> Vec3 {
    [rng.uniform(-amp, amp), rng.uniform(-amp, amp), rng.uniform(-amp, amp)]
}

fn gauss3(rng: &mut Rng, sigma: f64) -> Vec3 {
    [rng.normal() * sigma, rng.normal() * sigma, rng.normal() * sigma]
}

/// Smooth 0→1→0 window for a disturbance over [a, b] with 2 s ramps.
fn ramp(t: f64, a: f64, b: f64) -> f64 {
    let r = 2.0;
    let s = if t < a || t > b {
        0.0
    } else if t < a + r {
        (t - a) / r
    } else if t > b - r {
        (b - t) / r
    } else {
        1.0
    };
    s * s * (3.0 - 2.0 * s)
}

/// Simulate one sensor on the plan.
pub fn simulate_sensor(rng: &mut Rng, plan: &Plan, o: &SensorOptions) -> SimStream {
    let mut description = Vec::new();
    let about_normal = rng.uniform(-15.0, 15.0);
    let slope = match o.placement {
        Placement::Chest | Placement::UpperBack => rng.uniform(10.0, 30.0),
        Placement::Pelvis | Placement::Sacrum => rng.uniform(-10.0, 15.0),
    };
    let q_bs = q_body_from_sensor(o.placement, about_normal, slope);
    description.push(format!(
        "worn {about_normal:+.1}° about the surface normal, surface sloped {slope:.1}°"
    ));
    let segment = o.placement.segment();
    let skin_gain = if o.hard.skin_motion {
        let k = rng.sign() * rng.uniform(0.03, 0.06);
        description.push(format!(
            "turns on the skin by {:+.1} % of the segment's twist",
            k * 100.0
        ));
        k
    } else {
        0.0
    };
    let q_ws = |t: f64| {
        let q_nb = plan.q_neutral_from_segment(segment, t);
        let skin = if skin_gain == 0.0 {
            Quat::IDENTITY
        } else {
            rz(skin_gain * super::truth::twist_deg(q_nb, [0.0, 1.0, 0.0]))
        };
        super::motion::q_world_from_neutral(plan.variation, plan.heading_rad) * q_nb * q_bs * skin
    };
    let rate_hz = o.rate_hz.unwrap_or_else(|| match o.format {
        Format::Raw => *rng.pick(&[50.0, 60.0, 100.0, 104.0, 120.0, 200.0]),
        Format::Orientation if o.hard.low_rate_quantized => rng.uniform(20.0, 30.0).round(),
        Format::Orientation => *rng.pick(&[30.0, 50.0, 60.0, 100.0]),
    });
    let (times, gaps_s, drop_notes) = sample_times(rng, plan.t_begin_s, plan.t_end_s, rate_hz, &o.hard, o.ideal);
    // Scales a sensor error: 0 for an ideal sensor.
    let err = if o.ideal { 0.0 } else { 1.0 };
    description.extend(drop_notes);
    let t0 = plan.t_begin_s;
    let span = plan.t_end_s - t0;
    let mut csv = String::with_capacity(times.len() * 64);
    match o.format {
        Format::Raw => {
            let with_mag = o.with_mag.unwrap_or_else(|| rng.chance(0.5));
            // Gyroscope: bias (offset + drift + steps), scale, noise.
            let bias_amp = if o.hard.gyro_bias_steps { 1.0 } else { 0.4 };
            let mut bias = Drift {
                offset: scale(rand3(rng, bias_amp * DEG), err),
                slope_per_s: scale(rand3(rng, 0.3 * DEG / 600.0), err),
                steps: Vec::new(),
                t0,
            };
            if o.hard.gyro_bias_steps && !o.ideal {
                for _ in 0..rng.int(1, 3) {
                    let ts = t0 + rng.uniform(10.0, span.max(11.0));
                    let mut s = [0.0; 3];
                    s[rng.int(0, 2) as usize] = rng.sign() * rng.uniform(0.3, 0.8) * DEG;
                    bias.steps.push((ts, s));
                    description.push(format!(
                        "gyro bias step of {:.2}°/s at {:.1} s",
                        (s[0] + s[1] + s[2]) / DEG,
                        ts
                    ));
                }
            }
            let scale_amp = if o.hard.scale_errors { 0.05 } else { 0.01 };
            let gyr_scale: Vec3 = [
                1.0 + err * rng.sign() * rng.uniform(scale_amp * 0.6, scale_amp),
                1.0 + err * rng.sign() * rng.uniform(scale_amp * 0.6, scale_amp),
                1.0 + err * rng.sign() * rng.uniform(scale_amp * 0.6, scale_amp),
            ];
            let gyr_noise = err * rng.uniform(0.05, 0.15) * DEG;
            let acc_scale: Vec3 = [
                1.0 + err * rng.uniform(-0.01, 0.01),
                1.0 + err * rng.uniform(-0.01, 0.01),
                1.0 + err * rng.uniform(-0.01, 0.01),
            ];
            let acc_bias = scale(rand3(rng, 0.05), err);
            let acc_noise = err * rng.uniform(0.01, 0.04);
            description.push(format!(
                "raw IMU {rate_hz:.0} Hz{}: gyro bias {:.2},{:.2},{:.2}°/s, scale {:+.1}/{:+.1}/{:+.1} %, noise {:.2}°/s",
                if with_mag { " with magnetometer" } else { ", 6-axis" },
                bias.offset[0] / DEG,
                bias.offset[1] / DEG,
                bias.offset[2] / DEG,
                (gyr_scale[0] - 1.0) * 100.0,
                (gyr_scale[1] - 1.0) * 100.0,
                (gyr_scale[2] - 1.0) * 100.0,
                gyr_noise / DEG
            ));
            // Magnetometer: Earth's field (ENU, inclination 55–70°), hard iron, disturbances.
            let incl = rng.uniform(55.0, 70.0) * DEG;
            let decl = rng.uniform(-10.0, 10.0) * DEG;
            let b = rng.uniform(45.0, 55.0);
            let mag_world = rz(decl / DEG).rotate([0.0, b * incl.cos(), -b * incl.sin()]);
            let hard_iron = scale(rand3(rng, 3.0), err);
            let mut disturbances: Vec<(f64, f64, Vec3)> = Vec::new();
            if with_mag {
                let n = if o.ideal {
                    0
                } else if o.hard.mag_disturbance {
                    rng.int(1, 2)
                } else {
                    rng.int(0, 1)
                };
                for _ in 0..n {
                    let (len, amp) = if o.hard.mag_disturbance {
                        (rng.uniform(20.0, 60.0), rng.uniform(15.0, 40.0))
                    } else {
                        (rng.uniform(4.0, 10.0), rng.uniform(3.0, 8.0))
                    };
                    let s = t0 + rng.uniform(4.0, (span - len).max(5.0));
                    disturbances.push((s, s + len, scale(crate::frames::normalize(rand3(rng, 1.0)), amp)));
                    description.push(format!("magnetic disturbance {amp:.0} µT for {len:.0} s at {s:.1} s"));
                }
                csv.push_str(crate::error::IMU_HEADER_9D);
            } else {
                csv.push_str(crate::error::IMU_HEADER_6D);
            }
            csv.push('\n');
            let pos = |t: f64| plan.sensor_position_world_m(o.placement, t);
            for &t in &times {
                let q = q_ws(t);
                let w = angular_rate_local_rps(q_ws, t);
                let bias_t = bias.at(t, GYR_BIAS_MAX_RPS);
                let gyr: Vec3 = std::array::from_fn(|i| w[i] * gyr_scale[i] + bias_t[i]);
                let gyr = add(gyr, gauss3(rng, gyr_noise));
                let a_world = add(acceleration_mps2(pos, t), [0.0, 0.0, GRAVITY_MPS2]);
                let f = q.conj().rotate(a_world);
                let acc: Vec3 = std::array::from_fn(|i| f[i] * acc_scale[i] + acc_bias[i]);
                let acc = add(acc, gauss3(rng, acc_noise));
                let _ = write!(
                    csv,
                    "{t:.5},{:.5},{:.5},{:.5},{:.6},{:.6},{:.6}",
                    acc[0], acc[1], acc[2], gyr[0], gyr[1], gyr[2]
                );
                if with_mag {
                    let mut m = mag_world;
                    for (a, b, d) in &disturbances {
                        m = add(m, scale(*d, ramp(t, *a, *b)));
                    }
                    let m = add(add(q.conj().rotate(m), hard_iron), gauss3(rng, 0.3 * err));
                    let _ = write!(csv, ",{:.3},{:.3},{:.3}", m[0], m[1], m[2]);
                }
                csv.push('\n');
            }
        }
        Format::Orientation => {
            let yaw0 = rng.uniform(-180.0, 180.0);
            let drift_dpm = err
                * if o.hard.low_rate_quantized || o.hard.gyro_bias_steps {
                    rng.sign() * rng.uniform(1.0, 3.0)
                } else {
                    rng.sign() * rng.uniform(0.1, 0.8)
                };
            let quantize = o.hard.low_rate_quantized;
            let canonical = rng.chance(0.5);
            let tilt_err = [err * rng.uniform(-0.5, 0.5), err * rng.uniform(-0.5, 0.5)];
            let noise_deg = err * rng.uniform(0.02, 0.1);
            let wander = super::motion::Sines {
                terms: (0..3)
                    .map(|_| {
                        (
                            err * rng.uniform(0.1, 0.6),
                            rng.uniform(0.002, 0.02),
                            rng.uniform(0.0, 6.3),
                        )
                    })
                    .collect(),
            };
            let mut jumps: Vec<(f64, f64)> = Vec::new();
            if o.hard.heading_jumps && !o.ideal {
                for _ in 0..rng.int(1, 3) {
                    let at = t0 + rng.uniform(6.0, span.max(7.0));
                    let by = rng.sign() * rng.uniform(3.0, 10.0);
                    description.push(format!("heading jumps by {by:+.1}° at {at:.1} s"));
                    jumps.push((at, by));
                }
            }
            description.push(format!(
                "orientation {rate_hz:.0} Hz: heading {yaw0:.0}° drifting {drift_dpm:+.1}°/min, tilt error {:.1}/{:.1}°{}{}",
                tilt_err[0],
                tilt_err[1],
                if quantize { ", int16-quantised" } else { "" },
                if canonical { ", sign flipped to qw ≥ 0" } else { "" }
            ));
            csv.push_str(crate::error::ORIENTATION_HEADER);
            csv.push('\n');
            let mut prev: Option<Quat> = None;
            for &t in &times {
                let jumped: f64 = jumps.iter().filter(|(at, _)| t >= *at).map(|(_, by)| by).sum();
                let heading = yaw0 + drift_dpm * (t - t0) / 60.0 + wander.value(t - t0) + jumped;
                let err = rz(heading) * rx(tilt_err[0]) * ry(tilt_err[1]);
                let noise = Quat::from_rotation_vector(gauss3(rng, noise_deg * DEG));
                let mut q = (err * q_ws(t) * noise).normalized();
                if canonical {
                    q = q.canonical();
                } else if let Some(p) = prev {
                    q = q.same_hemisphere_as(p);
                }
                prev = Some(q);
                let c = q.to_array();
                if quantize {
                    let qz = |v: f64| (v * 16384.0).round() / 16384.0;
                    let _ = writeln!(
                        csv,
                        "{t:.5},{:.7},{:.7},{:.7},{:.7}",
                        qz(c[0]),
                        qz(c[1]),
                        qz(c[2]),
                        qz(c[3])
                    );
                } else {
                    let _ = writeln!(csv, "{t:.5},{:.7},{:.7},{:.7},{:.7}", c[0], c[1], c[2], c[3]);
                }
            }
        }
    }
    SimStream {
        placement: o.placement,
        format: o.format,
        rate_hz,
        csv,
        description,
        gaps_s,
        t_first_s: times.first().copied().unwrap_or(plan.t_begin_s),
        t_last_s: times.last().copied().unwrap_or(plan.t_end_s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::Variation;
    use crate::simulate::scenario::{ScenarioOptions, draw};

    fn plan(variation: Variation) -> Plan {
        let o = ScenarioOptions {
            variation,
            two_sensors: false,
            reps: Some(2),
            long_session: false,
            short_still: false,
            max_duration_s: None,
        };
        draw(&mut Rng::new(3), &o).plan
    }

    fn rows(csv: &str) -> Vec<Vec<f64>> {
        csv.lines()
            .skip(1)
            .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
            .collect()
    }

    #[test]
    fn an_ideal_raw_sensor_at_rest_reads_gravity_along_its_worn_axes() {
        for (variation, placement) in [
            (Variation::Standing, Placement::Chest),
            (Variation::Supine, Placement::Pelvis),
            (Variation::Seated, Placement::UpperBack),
        ] {
            let p = plan(variation);
            let o = SensorOptions {
                placement,
                format: Format::Raw,
                rate_hz: Some(100.0),
                with_mag: Some(false),
                hard: HardCases::default(),
                ideal: true,
            };
            let s = simulate_sensor(&mut Rng::new(1), &p, &o);
            let first = &rows(&s.csv)[5];
            let acc = [first[1], first[2], first[3]];
            let g = crate::frames::norm(acc);
            assert!((g - GRAVITY_MPS2).abs() < 0.05, "{g}");
            // Upright: +y (head) mostly up, sloped; supine: +z (out of the front) up;
            // upper back: +y up too.
            match variation {
                Variation::Supine => assert!(acc[2] / g > 0.9, "{acc:?}"),
                _ => assert!(acc[1] / g > 0.8, "{acc:?}"),
            }
            let gyr = [first[4], first[5], first[6]];
            assert!(crate::frames::norm(gyr) < 5.0 * DEG, "still: {gyr:?}");
        }
    }

    #[test]
    fn low_rate_orientation_streams_are_quantised_and_timestamps_increase() {
        let p = plan(Variation::Seated);
        let o = SensorOptions {
            placement: Placement::Chest,
            format: Format::Orientation,
            rate_hz: None,
            with_mag: None,
            hard: HardCases {
                low_rate_quantized: true,
                ..HardCases::default()
            },
            ideal: false,
        };
        let s = simulate_sensor(&mut Rng::new(8), &p, &o);
        assert!((20.0..=30.0).contains(&s.rate_hz));
        let r = rows(&s.csv);
        assert!(r.windows(2).all(|w| w[1][0] > w[0][0]));
        for row in &r {
            for q in &row[1..5] {
                let k = q * 16384.0;
                assert!((k - k.round()).abs() < 2e-3, "{q} is not a multiple of 1/16384");
            }
        }
    }
}

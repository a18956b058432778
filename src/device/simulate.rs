//! Simulated peripherals: turn a known motion into the notifications a real device of
//! each kind would send. Used for the BLE fixtures and by `sim:KIND` sources.
//!
//! Pure and deterministic: the caller supplies the truth samples (time, orientation,
//! body-frame rates and specific force); this module only quantises and encodes them
//! exactly as the device's firmware does (see each protocol module).

use crate::frames::{Quat, Vec3, sub};

use super::{
    DeviceKind, RAD_PER_DEG, STANDARD_GRAVITY_MPS2, Uuid, metamotion, movella_dot, open_imu, phone, thingy52, witmotion,
};

/// The true state of a sensor at one instant (SI units).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TruthSample {
    pub t_s: f64,
    pub q_world_from_sensor: Quat,
    pub gyro_sensor_radps: Vec3,
    pub acc_sensor_mps2: Vec3,
    pub mag_sensor_ut: Option<Vec3>,
}

/// Settings of a simulated peripheral.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Settings {
    /// The device clock at truth time 0 (µs); lets a fixture cross the u32 wrap.
    pub device_clock_at_zero_us: u64,
    /// The first sequence number (open IMU profile).
    pub first_sequence: u16,
}

/// A stateful simulated peripheral of one kind.
#[derive(Debug, Clone)]
pub struct Peripheral {
    kind: DeviceKind,
    settings: Settings,
    sequence: u16,
}

fn device_clock_us(settings: &Settings, t_s: f64) -> u32 {
    let t_us = settings.device_clock_at_zero_us as f64 + (t_s * 1e6).round();
    (t_us.max(0.0) as u64 % (1u64 << 32)) as u32
}

fn to_i16(v: f64) -> i16 {
    v.round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16
}

impl Peripheral {
    pub fn new(kind: DeviceKind, settings: Settings) -> Self {
        Peripheral {
            kind,
            settings,
            sequence: settings.first_sequence,
        }
    }

    pub fn kind(&self) -> DeviceKind {
        self.kind
    }

    /// Skip one packet's sequence number, as if it had been lost on the air.
    pub fn lose_one(&mut self) {
        self.sequence = self.sequence.wrapping_add(1);
    }

    /// The notifications (characteristic, bytes) the device sends for one sample.
    pub fn notifications(&mut self, s: &TruthSample) -> Vec<(Uuid, Vec<u8>)> {
        let q = s.q_world_from_sensor.normalized();
        match self.kind {
            DeviceKind::MovellaDot => {
                let acc_world = q.rotate(s.acc_sensor_mps2);
                let free = sub(acc_world, [0.0, 0.0, STANDARD_GRAVITY_MPS2]);
                let p = movella_dot::Payload::CompleteQuaternion {
                    timestamp_us: device_clock_us(&self.settings, s.t_s),
                    q_wxyz: q.to_array().map(|c| c as f32),
                    free_acc_mps2: free.map(|c| c as f32),
                };
                vec![(movella_dot::MEDIUM_PAYLOAD, movella_dot::encode(&p))]
            }
            DeviceKind::WitMotion => {
                let [roll, pitch, yaw] = witmotion::euler_deg_from_quat(q);
                let counts = |v: Vec3, full_scale: f64| v.map(|x| to_i16(x / full_scale * 32768.0));
                let p = witmotion::Packet::Motion {
                    acc: counts(s.acc_sensor_mps2, witmotion::ACC_FULL_SCALE_G * STANDARD_GRAVITY_MPS2),
                    gyro: counts(s.gyro_sensor_radps, witmotion::GYRO_FULL_SCALE_DPS * RAD_PER_DEG),
                    angle_roll_pitch_yaw: counts([roll, pitch, yaw], witmotion::ANGLE_FULL_SCALE_DEG),
                };
                vec![(witmotion::NOTIFY, witmotion::encode(&p).to_vec())]
            }
            DeviceKind::Thingy52 => {
                let raw = thingy52::RawData::from_si(
                    s.acc_sensor_mps2,
                    s.gyro_sensor_radps,
                    s.mag_sensor_ut.unwrap_or([0.0; 3]),
                );
                let quat = thingy52::QuaternionQ30::from_quat(q);
                vec![
                    (thingy52::QUATERNION, thingy52::encode_quaternion(&quat).to_vec()),
                    (thingy52::RAW_DATA, thingy52::encode_raw(&raw).to_vec()),
                ]
            }
            DeviceKind::MetaMotion => {
                let m = metamotion::Message::Quaternion {
                    q_wxyz: q.to_array().map(|c| c as f32),
                };
                vec![(metamotion::NOTIFY, metamotion::encode(&m))]
            }
            DeviceKind::OpenImu => {
                let p = open_imu::Packet {
                    sequence: self.sequence,
                    device_time_us: device_clock_us(&self.settings, s.t_s),
                    data: open_imu::Data::imu_from_si(s.acc_sensor_mps2, s.gyro_sensor_radps, s.mag_sensor_ut),
                };
                self.sequence = self.sequence.wrapping_add(1);
                vec![(open_imu::DATA, open_imu::encode(&p))]
            }
            DeviceKind::Phone => {
                let p = phone::Packet {
                    origin: phone::Origin::Page,
                    device_time_s: self.settings.device_clock_at_zero_us as f64 * 1e-6 + s.t_s,
                    q_world_from_sensor: q,
                };
                vec![(phone::ORIENTATION, phone::encode(&p))]
            }
        }
    }
}

/// A smooth test motion: the sensor sits tilted by `tilt_deg` about x and turns about its
/// own z axis by `θ(t) = peak · (1 − cos(2π t / period)) / 2` (out and back once per
/// period). Rotation is about the sensor's origin, so the accelerometer reads gravity only.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwistMotion {
    pub tilt_deg: f64,
    pub peak_deg: f64,
    pub period_s: f64,
}

impl TwistMotion {
    pub fn at(&self, t_s: f64) -> TruthSample {
        let w = 2.0 * std::f64::consts::PI / self.period_s;
        let theta_rad = self.peak_deg * RAD_PER_DEG * (1.0 - (w * t_s).cos()) / 2.0;
        let theta_rate = self.peak_deg * RAD_PER_DEG * w * (w * t_s).sin() / 2.0;
        let tilt = Quat::from_axis_angle([1.0, 0.0, 0.0], self.tilt_deg * RAD_PER_DEG);
        let q = tilt * Quat::from_axis_angle([0.0, 0.0, 1.0], theta_rad);
        TruthSample {
            t_s,
            q_world_from_sensor: q,
            // q = A·Rz(θ) with A fixed: the body-frame rate is θ' about the sensor's z.
            gyro_sensor_radps: [0.0, 0.0, theta_rate],
            acc_sensor_mps2: q.conj().rotate([0.0, 0.0, STANDARD_GRAVITY_MPS2]),
            mag_sensor_ut: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind's simulated notifications decode back to the truth within the wire
    /// format's quantisation.
    #[test]
    fn every_kind_round_trips_the_truth() {
        let motion = TwistMotion {
            tilt_deg: 10.0,
            peak_deg: 40.0,
            period_s: 4.0,
        };
        for kind in DeviceKind::ALL {
            let mut p = Peripheral::new(kind, Settings::default());
            let mut d = kind.decoder();
            for i in 0..50 {
                let truth = motion.at(f64::from(i) * 0.04);
                for (uuid, bytes) in p.notifications(&truth) {
                    for s in d.push(uuid, &bytes).unwrap() {
                        if let Some(q) = s.q_world_from_sensor {
                            let tol = if kind == DeviceKind::WitMotion { 0.02 } else { 2e-3 };
                            assert!(q.angle_to_rad(truth.q_world_from_sensor) < tol, "{kind} q at {i}");
                        }
                        if let Some(a) = s.acc_sensor_mps2 {
                            let e = sub(a, truth.acc_sensor_mps2);
                            assert!(crate::frames::norm(e) < 0.01, "{kind} acc at {i}: {e:?}");
                        }
                        if let Some(g) = s.gyro_sensor_radps {
                            let e = sub(g, truth.gyro_sensor_radps);
                            assert!(crate::frames::norm(e) < 0.01, "{kind} gyro at {i}: {e:?}");
                        }
                        if let Some(t) = s.device_time_s {
                            assert!((t - truth.t_s).abs() < 1e-6, "{kind} time at {i}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn twist_motion_rates_match_the_orientation() {
        let m = TwistMotion {
            tilt_deg: 20.0,
            peak_deg: 60.0,
            period_s: 3.0,
        };
        let dt = 1e-5;
        let (a, b) = (m.at(0.7), m.at(0.7 + dt));
        let dq = a.q_world_from_sensor.conj() * b.q_world_from_sensor;
        let rate_z = 2.0 * dq.z / dt;
        assert!(
            (rate_z - a.gyro_sensor_radps[2]).abs() < 1e-3,
            "{rate_z} {:?}",
            a.gyro_sensor_radps
        );
    }
}

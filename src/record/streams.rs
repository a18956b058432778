//! From a recording to analysis streams: one [`Stream`] per sensor, on the host clock.
//!
//! Pure. Sample times come from `device::timing` (device clock aligned to the receive
//! times by least latency, or the receive-time smoother for devices without a clock),
//! so two sensors of one recording share one time axis (spec §7) and times are strictly
//! increasing (spec §5).

use crate::device::DeviceSample;
use crate::device::timing::{DeviceClockAligner, ReceiveTimeSmoother, SmootherSettings};
use crate::stream::{ImuSample, OrientationSample, Samples, Stream};

use super::{Record, Recording, StreamInfo};

/// Fallback rate (Hz) for the smoother when neither the metadata nor the data give one.
const FALLBACK_RATE_HZ: f64 = 50.0;

/// One sensor's data from a recording.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedStream {
    pub info: StreamInfo,
    pub stream: Stream,
    /// Plain-language notes about this stream (skipped samples, no data …).
    pub warnings: Vec<String>,
}

/// Why a recording cannot give streams.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamsError {
    #[error("the recording has no metadata record (it was cut short before the session started)")]
    NoMetadata,
}

/// The streams of a recording, in the metadata's order.
pub fn to_streams(rec: &Recording) -> Result<Vec<RecordedStream>, StreamsError> {
    let meta = rec.metadata().ok_or(StreamsError::NoMetadata)?;
    Ok(meta.streams.iter().map(|info| one_stream(rec, info)).collect())
}

fn one_stream(rec: &Recording, info: &StreamInfo) -> RecordedStream {
    let raw: Vec<(f64, &DeviceSample)> = rec
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Sample {
                stream,
                receive_s,
                sample,
            } if *stream == info.id => Some((*receive_s, sample)),
            _ => None,
        })
        .collect();
    let mut warnings = Vec::new();
    let is_imu = |s: &DeviceSample| s.acc_sensor_mps2.is_some() && s.gyro_sensor_radps.is_some();
    let use_imu = raw.iter().any(|(_, s)| is_imu(s));
    let kept: Vec<(f64, &DeviceSample)> = raw
        .iter()
        .copied()
        .filter(|(_, s)| {
            if use_imu {
                is_imu(s)
            } else {
                s.q_world_from_sensor.is_some_and(|q| q.norm() > 0.5)
            }
        })
        .collect();
    if kept.len() < raw.len() && !use_imu {
        warnings.push(format!(
            "{}: {} orientation samples without a usable quaternion were skipped",
            info.placement.name(),
            raw.len() - kept.len()
        ));
    }
    if kept.is_empty() {
        warnings.push(format!("{}: no samples were recorded", info.placement.name()));
    }

    let times = host_times(info, &kept);
    let t_text = times.iter().map(|t| t.to_string().into_boxed_str()).collect();
    let samples = if use_imu {
        let all_mag = kept.iter().all(|(_, s)| s.mag_sensor_ut.is_some());
        Samples::Imu(
            kept.iter()
                .zip(&times)
                .filter_map(|((_, s), t)| {
                    Some(ImuSample {
                        t_s: *t,
                        acc_sensor_mps2: s.acc_sensor_mps2?,
                        gyr_sensor_rps: s.gyro_sensor_radps?,
                        mag_sensor: if all_mag { s.mag_sensor_ut } else { None },
                    })
                })
                .collect(),
        )
    } else {
        Samples::Orientation(
            kept.iter()
                .zip(&times)
                .filter_map(|((_, s), t)| {
                    Some(OrientationSample {
                        t_s: *t,
                        q_world_from_sensor: s.q_world_from_sensor?.normalized(),
                    })
                })
                .collect(),
        )
    };
    RecordedStream {
        info: info.clone(),
        stream: Stream { samples, t_text },
        warnings,
    }
}

fn host_times(info: &StreamInfo, samples: &[(f64, &DeviceSample)]) -> Vec<f64> {
    if samples.iter().all(|(_, s)| s.device_time_s.is_some()) {
        let mut a = DeviceClockAligner::new();
        samples
            .iter()
            .map(|(r, s)| a.update(s.device_time_s.unwrap_or(*r), *r))
            .collect()
    } else {
        let rate = info.rate_hz.filter(|r| *r > 0.0).unwrap_or(FALLBACK_RATE_HZ);
        let mut sm = ReceiveTimeSmoother::new(SmootherSettings::for_rate(rate));
        samples.iter().map(|(r, _)| sm.update(*r)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::{Placement, Variation};
    use crate::device::DeviceKind;
    use crate::device::simulate::{Peripheral, Settings, TwistMotion};
    use crate::record::{Metadata, RecordWriter, WriterSettings, parse};

    /// Simulated devices → decoders → a recording (through the writer) → the reader →
    /// streams on one host clock, compared with the truth.
    #[test]
    fn simulated_session_round_trips_to_streams() {
        let motion = TwistMotion {
            tilt_deg: 5.0,
            peak_deg: 30.0,
            period_s: 3.0,
        };
        let kinds = [(0u16, DeviceKind::MovellaDot, 60.0), (1, DeviceKind::WitMotion, 50.0)];
        let meta = Metadata {
            schema: crate::record::METADATA_SCHEMA.to_string(),
            program_version: "test".to_string(),
            started_utc: None,
            variation: Variation::Seated,
            protocol_toml: None,
            caution: None,
            streams: kinds
                .iter()
                .map(|(id, kind, rate)| StreamInfo {
                    id: *id,
                    placement: if *id == 0 { Placement::Chest } else { Placement::Pelvis },
                    device_kind: kind.name().to_string(),
                    device_address: None,
                    device_name: None,
                    mount: kind.info().mount.to_string(),
                    protocol: None,
                    rate_hz: Some(*rate),
                    calibration: None,
                })
                .collect(),
            extra: Default::default(),
        };
        let mut w = RecordWriter::new(Vec::new(), WriterSettings::default(), &meta).unwrap();
        // Interleave both devices in receive-time order (20 ms connection events).
        let mut events = Vec::new();
        for (id, kind, rate) in kinds {
            let mut p = Peripheral::new(
                kind,
                Settings {
                    device_clock_at_zero_us: 7_000_000,
                    first_sequence: 0,
                },
            );
            let mut d = kind.decoder();
            for i in 0..(6.0 * rate) as usize {
                let truth = motion.at(i as f64 / rate);
                let receive_s = (truth.t_s / 0.02).ceil() * 0.02 + 0.004;
                for (uuid, bytes) in p.notifications(&truth) {
                    for s in d.push(uuid, &bytes).unwrap() {
                        events.push((receive_s, id, uuid, bytes.clone(), s));
                    }
                }
            }
        }
        events.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (receive_s, stream, characteristic, bytes, sample) in events {
            let n = Record::Notification {
                stream,
                receive_s,
                characteristic,
                bytes,
            };
            w.append(&n, receive_s).unwrap();
            w.append(
                &Record::Sample {
                    stream,
                    receive_s,
                    sample,
                },
                receive_s,
            )
            .unwrap();
        }
        let bytes = w.finish(7.0).unwrap();
        let streams = to_streams(&parse(&bytes).unwrap()).unwrap();
        assert_eq!(streams.len(), 2);

        // Chest: Movella orientation; pelvis: WitMotion raw IMU (our filter's input).
        let Samples::Orientation(chest) = &streams[0].stream.samples else {
            panic!("chest should be an orientation stream")
        };
        let Samples::Imu(pelvis) = &streams[1].stream.samples else {
            panic!("pelvis should be an IMU stream")
        };
        assert_eq!(chest.len(), 360);
        assert_eq!(pelvis.len(), 300);
        // One host clock: both lag the truth by the same small latency (±1 ms).
        let lag_chest: Vec<f64> = chest.iter().enumerate().map(|(i, s)| s.t_s - i as f64 / 60.0).collect();
        let lag_pelvis: Vec<f64> = pelvis
            .iter()
            .enumerate()
            .map(|(i, s)| s.t_s - i as f64 / 50.0)
            .collect();
        for lag in lag_chest[60..].iter().chain(&lag_pelvis[50..]) {
            assert!((lag - lag_chest[60]).abs() < 1e-3, "lag {lag} vs {}", lag_chest[60]);
        }
        for (i, s) in chest.iter().enumerate() {
            let truth = motion.at(i as f64 / 60.0).q_world_from_sensor;
            assert!(s.q_world_from_sensor.angle_to_rad(truth) < 1e-4);
        }
        // Strictly increasing time text, as the stream reader demands.
        for st in &streams {
            let t: Vec<f64> = st.stream.t_text.iter().map(|x| x.parse().unwrap()).collect();
            assert!(t.windows(2).all(|w| w[1] > w[0]));
            assert!(st.warnings.is_empty(), "{:?}", st.warnings);
        }
    }

    #[test]
    fn a_recording_without_metadata_has_no_streams() {
        let rec = Recording {
            format_major: 1,
            format_minor: 0,
            records: vec![],
            tail: None,
            unknown_records: 0,
        };
        assert_eq!(to_streams(&rec), Err(StreamsError::NoMetadata));
    }
}

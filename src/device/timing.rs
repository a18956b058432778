//! Sample times on the host clock, from noisy BLE receive times.
//!
//! Notifications arrive in bursts at connection events (7.5–50 ms apart), so receive
//! times jitter by a connection interval and several samples can share one. Two causal
//! estimators (Settings/State/update, no clock inside) turn them into smooth, strictly
//! increasing host times:
//!
//! - [`DeviceClockAligner`] for devices that timestamp samples (Movella DOT, open IMU):
//!   host = device time + offset, where the offset is the smallest `receive − device`
//!   seen so far (the notification with the least latency). Clock drift between device
//!   and host is not modelled: 50 ppm is 0.09 s over a 30-minute session.
//! - [`ReceiveTimeSmoother`] for devices without a clock (WitMotion, Thingy, MetaMotion):
//!   samples lie on a line `anchor + n·dt` kept just under the receive times (the
//!   minimum-latency line), with `dt` re-estimated from the receive times over the
//!   segment, and a new segment after a gap (lost packets).
//!
//! Both keep their output strictly increasing (spec §5: time strictly increasing).

/// Smallest step used to keep host times strictly increasing (s).
const MIN_STEP_S: f64 = 1e-6;

/// Maps a device clock (already unwrapped, in s) onto the host clock.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DeviceClockAligner {
    offset_s: Option<f64>,
    last_host_s: Option<f64>,
}

impl DeviceClockAligner {
    pub fn new() -> Self {
        Self::default()
    }

    /// The current offset (host − device, s), if any sample was seen.
    pub fn offset_s(&self) -> Option<f64> {
        self.offset_s
    }

    /// Host time of a sample stamped `device_s` and received at `receive_s`.
    pub fn update(&mut self, device_s: f64, receive_s: f64) -> f64 {
        let candidate = receive_s - device_s;
        let offset = self.offset_s.map_or(candidate, |o| o.min(candidate));
        self.offset_s = Some(offset);
        let mut host = device_s + offset;
        if let Some(last) = self.last_host_s
            && host <= last
        {
            host = last + MIN_STEP_S;
        }
        self.last_host_s = Some(host);
        host
    }
}

/// Settings of [`ReceiveTimeSmoother`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SmootherSettings {
    /// The device's nominal sample rate (Hz): the interval until one is estimated.
    pub nominal_rate_hz: f64,
    /// A sample received this much later than the line predicts starts a new segment
    /// (packets were lost or the device paused), s.
    pub max_lateness_s: f64,
    /// Samples in a segment before the interval is estimated from the receive times.
    pub min_samples_for_rate: u64,
    /// An estimated interval further than this fraction from the nominal one is ignored.
    pub max_rate_error: f64,
}

impl SmootherSettings {
    pub fn for_rate(nominal_rate_hz: f64) -> Self {
        SmootherSettings {
            nominal_rate_hz,
            max_lateness_s: 0.25,
            min_samples_for_rate: 50,
            max_rate_error: 0.1,
        }
    }
}

/// Segments longer than this restart (keeping the interval) to bound the hull's memory.
const MAX_SEGMENT_SAMPLES: u64 = 100_000;

/// Host times for samples from a device without a clock, one per received sample.
///
/// Within a segment, the points (sample index n, receive time) lie above the line
/// `true time + least latency`. The smoother keeps their lower convex hull and uses the
/// hull edge under the middle of the segment as that line (it lies below every point,
/// so no sample is placed after it was received), falling back to the nominal interval
/// while the segment is short.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiveTimeSmoother {
    settings: SmootherSettings,
    /// Receive time of the segment's first sample; hull times are relative to it.
    origin_s: f64,
    /// Lower convex hull of (n, receive − origin).
    hull: Vec<(f64, f64)>,
    /// The line: host = origin + intercept + n·dt.
    intercept_s: f64,
    dt_s: f64,
    n: u64,
    last_host_s: Option<f64>,
    segments: u64,
}

impl ReceiveTimeSmoother {
    pub fn new(settings: SmootherSettings) -> Self {
        ReceiveTimeSmoother {
            settings,
            origin_s: 0.0,
            hull: Vec::new(),
            intercept_s: 0.0,
            dt_s: 1.0 / settings.nominal_rate_hz,
            n: 0,
            last_host_s: None,
            segments: 0,
        }
    }

    /// Segments started so far (1 + the gaps seen).
    pub fn segments(&self) -> u64 {
        self.segments
    }

    /// The current estimate of the sample interval (s).
    pub fn dt_s(&self) -> f64 {
        self.dt_s
    }

    fn start_segment(&mut self, receive_s: f64) {
        self.origin_s = receive_s;
        self.hull.clear();
        self.intercept_s = 0.0;
        self.n = 0;
        self.segments += 1;
    }

    fn push_hull(&mut self, p: (f64, f64)) {
        while let [.., o, a] = self.hull[..] {
            let cross = (a.0 - o.0) * (p.1 - o.1) - (a.1 - o.1) * (p.0 - o.0);
            if cross <= 0.0 {
                self.hull.pop();
            } else {
                break;
            }
        }
        self.hull.push(p);
    }

    /// Host time of the next sample, received at `receive_s`.
    pub fn update(&mut self, receive_s: f64) -> f64 {
        if self.last_host_s.is_none() || self.n >= MAX_SEGMENT_SAMPLES {
            self.start_segment(receive_s);
        } else {
            let predicted = self.origin_s + self.intercept_s + self.n as f64 * self.dt_s;
            if receive_s - predicted > self.settings.max_lateness_s {
                self.start_segment(receive_s);
            }
        }
        let n = self.n as f64;
        let r = receive_s - self.origin_s;
        self.push_hull((n, r));

        let nominal = 1.0 / self.settings.nominal_rate_hz;
        let mut fitted = false;
        if self.n + 1 >= self.settings.min_samples_for_rate && self.hull.len() >= 2 {
            // The hull edge spanning the middle of the segment.
            let mid = n / 2.0;
            let i = self.hull.partition_point(|p| p.0 <= mid).clamp(1, self.hull.len() - 1);
            let (p0, p1) = (self.hull[i - 1], self.hull[i]);
            let slope = (p1.1 - p0.1) / (p1.0 - p0.0);
            if (slope / nominal - 1.0).abs() < self.settings.max_rate_error {
                self.dt_s = slope;
                self.intercept_s = p0.1 - p0.0 * slope;
                fitted = true;
            }
        }
        if !fitted {
            // Keep the interval; lower the line if this sample came earlier than it.
            self.intercept_s = self.intercept_s.min(r - n * self.dt_s);
        }

        let mut host = self.origin_s + self.intercept_s + n * self.dt_s;
        if let Some(last) = self.last_host_s
            && host <= last
        {
            host = last + MIN_STEP_S;
        }
        self.n += 1;
        self.last_host_s = Some(host);
        host
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random numbers in [0, 1) (no RNG dependency in the core).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Receive time: the next 15 ms connection event after the sample, plus 0–3 ms.
    fn receive(t: f64, rng: &mut Lcg) -> f64 {
        (t / 0.015).ceil() * 0.015 + 0.002 + 0.003 * rng.next()
    }

    #[test]
    fn device_clock_alignment_removes_connection_jitter() {
        let mut rng = Lcg(7);
        let mut a = DeviceClockAligner::new();
        let device_epoch = 1234.5; // the device clock counts from its own power-on
        let mut host = Vec::new();
        for i in 0..6000 {
            let t = f64::from(i) / 60.0;
            host.push(a.update(device_epoch + t, receive(t, &mut rng)));
        }
        // Receive intervals jitter by a connection interval (15 ms); host intervals are
        // the device's 1/60 s to within 0.5 ms once the least-latency sample was seen.
        for (i, w) in host.windows(2).enumerate().skip(100) {
            assert!((w[1] - w[0] - 1.0 / 60.0).abs() < 5e-4, "interval {i}: {}", w[1] - w[0]);
        }
        // The offset found is the smallest latency: 2 ms plus a fraction of the 3 ms spread.
        let latency = a.offset_s().unwrap() + device_epoch;
        assert!((0.002..0.0025).contains(&latency), "{latency}");
    }

    #[test]
    fn smoother_tracks_a_clockless_device_within_milliseconds() {
        let mut rng = Lcg(11);
        // The device runs 0.5 % slow of its nominal 50 Hz.
        let true_dt = 1.0 / 50.0 * 1.005;
        let mut s = ReceiveTimeSmoother::new(SmootherSettings::for_rate(50.0));
        let mut errors = Vec::new();
        let mut last = f64::NEG_INFINITY;
        for i in 0..3000 {
            let t = f64::from(i) * true_dt;
            let r = receive(t, &mut rng);
            let host = s.update(r);
            assert!(host > last && host <= r + 1e-12, "sample {i}: host {host} receive {r}");
            last = host;
            errors.push(host - t);
        }
        // Relative to the true times, the host times are a constant latency plus a small
        // error: the spread after warm-up is far below the 15 ms receive jitter.
        let tail = &errors[500..];
        let (lo, hi) = tail.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), e| {
            (lo.min(*e), hi.max(*e))
        });
        eprintln!(
            "smoother spread after warm-up: {:.5} s, dt {:.7} (true {:.7})",
            hi - lo,
            s.dt_s(),
            true_dt
        );
        assert!(hi - lo < 0.004, "spread {:.4} s", hi - lo);
        assert_eq!(s.segments(), 1);
        assert!((s.dt_s() / true_dt - 1.0).abs() < 1e-3, "dt {}", s.dt_s());
    }

    #[test]
    fn smoother_starts_a_new_segment_after_a_gap_and_stays_increasing() {
        let mut s = ReceiveTimeSmoother::new(SmootherSettings::for_rate(100.0));
        let mut last = f64::NEG_INFINITY;
        let mut times = Vec::new();
        for i in 0..200 {
            // Two samples per 20 ms notification burst, then a 1 s outage at i = 100.
            let t = f64::from(i) * 0.01 + if i >= 100 { 1.0 } else { 0.0 };
            let r = (t / 0.02).ceil() * 0.02 + 0.001;
            let h = s.update(r);
            assert!(h > last);
            last = h;
            times.push(h);
        }
        assert_eq!(s.segments(), 2);
        assert!(times[100] - times[99] > 0.9, "the gap is kept");
        assert!((times[150] - times[149] - 0.01).abs() < 0.002);
    }

    #[test]
    fn repeated_receive_times_still_give_increasing_host_times() {
        let mut a = DeviceClockAligner::new();
        assert!(a.update(1.0, 5.0) < a.update(1.0, 5.0));
        let mut s = ReceiveTimeSmoother::new(SmootherSettings::for_rate(50.0));
        let h: Vec<f64> = (0..5).map(|_| s.update(2.0)).collect();
        assert!(h.windows(2).all(|w| w[1] > w[0]), "{h:?}");
    }
}

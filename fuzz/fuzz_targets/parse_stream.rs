//! Any bytes through the strict CSV stream parser, and any accepted stream through the
//! orientation filter: no panic, ever.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use twistcoach::orientation::{Settings, estimate_causal};
use twistcoach::stream::{Samples, parse_stream};

fuzz_target!(|data: &[u8]| {
    if let Ok(stream) = parse_stream(Path::new("fuzz.csv"), data)
        && let Samples::Imu(samples) = &stream.samples
    {
        let q = estimate_causal(samples, Settings::default());
        assert_eq!(q.len(), samples.len());
    }
});

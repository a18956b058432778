//! The streaming parser of `orientation` (`csv::parse_imu_in_blocks`: on one thread, the
//! splitter, piece parser and stitcher that the command runs on two) against the whole-text parser
//! (`parse_stream`), on any bytes: no panic, the same error, or exactly the same samples and
//! time texts in order. The first byte picks the chunk size (1–64 bytes), so that lines,
//! CRLFs, UTF-8 sequences, the BOM and numbers are cut at every possible place, and whether
//! each block is given back to be filled again (as `orientation` does).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use twistcoach::BadInput;
use twistcoach::stream::csv::parse_imu_in_blocks;
use twistcoach::stream::{Samples, parse_stream};

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let chunk = 1 + usize::from(first % 64);
    let path = Path::new("fuzz.csv");
    let chunks = rest.chunks(chunk).map(Ok::<&[u8], BadInput>);
    let mut samples = Vec::new();
    let mut times: Vec<Vec<u8>> = Vec::new();
    // The high bit of the first byte: each block is given back, full, to be filled again.
    let give_back = first & 0x80 != 0;
    let blocks = parse_imu_in_blocks(path, chunks, |b| {
        times.extend(b.time_texts().into_iter().map(<[u8]>::to_vec));
        samples.extend(b.samples.iter().cloned());
        give_back.then_some(b)
    });
    match (parse_stream(path, rest), blocks) {
        (Ok(whole), Ok(summary)) => {
            assert_eq!(summary.rows, whole.len());
            assert_eq!(summary.imu, matches!(whole.samples, Samples::Imu(_)));
            if let Samples::Imu(expected) = &whole.samples {
                assert_eq!(&samples, expected);
                let expected_times: Vec<Vec<u8>> = whole.t_text.iter().map(|t| t.as_bytes().to_vec()).collect();
                assert_eq!(times, expected_times);
            }
        }
        (Err(a), Err(b)) => assert_eq!((a.line, a.problem), (b.line, b.problem)),
        (a, b) => panic!("whole {:?} vs blocks {:?}", a.map(|s| s.len()), b.map(|s| s.rows)),
    }
});

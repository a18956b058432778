//! The gzip input path (a decompressing thread feeding the chunked parser) against the
//! plain path (gunzip everything, then parse the whole text), on any bytes: no panic, and
//! the same stream or the same error. The first byte picks the chunk size (1–64 bytes), so
//! that lines, CRLFs, UTF-8 sequences and the BOM are cut at every possible place. The rest
//! is used twice: as a gzip file as it stands, and gzip-compressed (so that the parser sees
//! the bytes themselves).
#![no_main]

use std::io::{Read, Write};
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use twistcoach::BadInput;
use twistcoach::stream::{Stream, parse_gzip, parse_stream};

fn same(a: Result<Stream, BadInput>, b: Result<Stream, BadInput>) {
    match (a, b) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!((a.line, a.problem), (b.line, b.problem)),
        (a, b) => panic!("plain {:?} vs gzip path {:?}", a.map(|s| s.len()), b.map(|s| s.len())),
    }
}

fn plain(path: &Path, raw: &[u8]) -> Result<Stream, BadInput> {
    if raw.is_empty() {
        return Err(BadInput::file(path, twistcoach::Problem::Empty));
    }
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(raw)
        .read_to_end(&mut text)
        .map_err(|e| BadInput::file(path, twistcoach::Problem::BadGzip(e.to_string())))?;
    parse_stream(path, &text)
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let chunk = 1 + usize::from(first % 64);
    let path = Path::new("fuzz.csv.gz");
    same(plain(path, rest), parse_gzip(path, rest, chunk));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(rest).unwrap();
    let compressed = gz.finish().unwrap();
    same(parse_stream(path, rest), parse_gzip(path, &compressed, chunk));
});

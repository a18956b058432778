//! Drives the real `twistcoach orientation` binary: spec §5 bad-input handling (exit 2,
//! empty stdout, a message naming file and line), gzip, and the output contract.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_twistcoach"))
}

fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("twistcoach-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run_orientation(input: &Path, out: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("orientation")
        .arg(input)
        .arg("-o")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

const GOOD: &str =
    "# still sensor, z up\nt,ax,ay,az,gx,gy,gz\n10.000,0,0,9.81,0,0,0\n10.010,0,0,9.81,0,0,0\n10.020,0,0,9.81,0,0,0\n";

#[test]
fn bad_inputs_exit_2_with_file_and_line_and_empty_stdout() {
    let dir = tmp_dir("bad");
    // A problem far into a long file, after the filter has started on the first blocks.
    let mut late = String::from("t,ax,ay,az,gx,gy,gz\n");
    for i in 0..20_000 {
        late.push_str(&format!("{:.2},0.01,0.02,9.81,0.001,0.002,0.003\n", i as f64 * 0.01));
    }
    late.push_str("200.5,1,2,3,4,5,x\n");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("late.csv", late.into_bytes(), "line 20002: field `gz` is not a number"),
        ("empty.csv", b"".to_vec(), "empty"),
        (
            "header.csv",
            b"t,ax,ay,az,gx,gy\n0,1,2,3,4,5\n".to_vec(),
            "line 1: wrong header",
        ),
        (
            "nan.csv",
            b"t,ax,ay,az,gx,gy,gz\n0,1,2,3,4,5,NaN\n".to_vec(),
            "line 2: field `gz` is not a finite",
        ),
        (
            "text.csv",
            b"t,ax,ay,az,gx,gy,gz\n0,1,2,3,4,five,6\n".to_vec(),
            "line 2: field `gy` is not a number",
        ),
        (
            "count.csv",
            b"t,ax,ay,az,gx,gy,gz\n0,1,2,3,4,5,6,7\n1,1,2,3,4,5,6\n".to_vec(),
            "line 2: wrong number",
        ),
        (
            "time.csv",
            b"#c\nt,ax,ay,az,gx,gy,gz\n1,1,2,3,4,5,6\n1,1,2,3,4,5,6\n".to_vec(),
            "line 4: time not strictly",
        ),
        (
            "cut.csv",
            b"t,ax,ay,az,gx,gy,gz\n0,1,2,3,4,5,6\n1,1,2".to_vec(),
            "line 3: truncated last line",
        ),
        ("bin.csv", vec![0x00, 0x9f, 0x92, 0x96, 0xff], "binary data"),
        ("cut.csv.gz", gz(GOOD.as_bytes())[..40].to_vec(), "gzip"),
        ("missing.csv", Vec::new(), "cannot open"),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.join(name);
        if name != "missing.csv" {
            std::fs::write(&path, &bytes).unwrap();
        }
        let out = run_orientation(&path, &dir.join("out.csv"), &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}: stdout not empty");
        assert!(
            stderr.contains(name),
            "{name}: message does not name the file: {stderr}"
        );
        assert!(stderr.contains(expected), "{name}: expected `{expected}` in: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        assert!(!dir.join("out.csv").exists(), "{name}: an output was written");
    }
}

#[test]
fn writes_every_row_with_time_text_as_read_and_unit_quaternions() {
    let dir = tmp_dir("good");
    let input = dir.join("still.csv");
    std::fs::write(&input, GOOD).unwrap();
    for extra in [&[][..], &["--no-mag"][..], &["--offline"][..]] {
        let out_path = dir.join("q.csv");
        let out = run_orientation(&input, &out_path, extra);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let text = std::fs::read_to_string(&out_path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "t,qw,qx,qy,qz");
        assert_eq!(lines.len(), 4);
        for (line, t) in lines[1..].iter().zip(["10.000", "10.010", "10.020"]) {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f[0], t);
            let q: Vec<f64> = f[1..].iter().map(|v| v.parse().unwrap()).collect();
            let norm = q.iter().map(|v| v * v).sum::<f64>().sqrt();
            assert!((norm - 1.0).abs() < 1e-9);
            // A still sensor with z up: the estimate is a pure heading rotation.
            assert!(q[1].abs() < 1e-6 && q[2].abs() < 1e-6, "{line}");
        }
    }
}

#[test]
fn reads_multi_member_gzip_and_writes_gzip() {
    let dir = tmp_dir("gz");
    let (head, tail) = GOOD.split_at(GOOD.find("10.010").unwrap());
    let mut two_members = gz(head.as_bytes());
    two_members.extend(gz(tail.as_bytes()));
    let input = dir.join("two.csv.gz");
    std::fs::write(&input, two_members).unwrap();
    let out_path = dir.join("q.csv.gz");
    let out = run_orientation(&input, &out_path, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(out_path).unwrap()),
        &mut text,
    )
    .unwrap();
    assert_eq!(text.lines().count(), 4);
}

#[test]
fn unwritable_output_exits_1() {
    let dir = tmp_dir("unwritable");
    let input = dir.join("still.csv");
    std::fs::write(&input, GOOD).unwrap();
    let out = run_orientation(&input, &dir.join("no/such/dir/q.csv"), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write"));
}

/// Writing fails on a long stream (the output side then has filtered rows waiting, and
/// either thread may hold the writer): the command stops with the error, nothing hangs.
#[test]
fn a_full_device_as_output_exits_1() {
    let dir = tmp_dir("full");
    let input = dir.join("long.csv");
    std::fs::write(&input, moving_recording(30_000, 0)).unwrap();
    let out = run_orientation(&input, Path::new("/dev/full"), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/dev/full: cannot write"));
}

#[test]
fn orientation_stream_as_input_is_refused_with_advice() {
    let dir = tmp_dir("orient");
    let input = dir.join("q.csv");
    std::fs::write(&input, "t,qw,qx,qy,qz\n0,1,0,0,0\n1,1,0,0,0\n").unwrap();
    let out = run_orientation(&input, &dir.join("o.csv"), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("raw IMU"));
}

/// A moving 9D recording of `rows` samples at 100 Hz, then `tail` samples at 80 Hz.
fn moving_recording(rows: usize, tail: usize) -> String {
    let mut text = String::from("# moving\nt,ax,ay,az,gx,gy,gz,mx,my,mz\n");
    let mut t_s = 3.0;
    for i in 0..rows + tail {
        let a = i as f64 * 0.013;
        text.push_str(&format!(
            "{t_s:.4},{:.5},{:.5},{:.5},{:.5},{:.5},{:.5},{:.3},{:.3},{:.3}\n",
            a.sin() * 2.0,
            a.cos(),
            9.81 - a.sin(),
            0.3 * (a * 1.7).sin(),
            0.2 * a.cos(),
            -0.1,
            20.0 + a.cos(),
            3.0,
            -40.0 + a.sin()
        ));
        t_s += if i < rows { 0.01 } else { 0.0125 };
    }
    text
}

fn output_rows(path: &Path) -> Vec<String> {
    let mut text = String::new();
    if path.extension().is_some_and(|e| e == "gz") {
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()),
            &mut text,
        )
        .unwrap();
    } else {
        text = std::fs::read_to_string(path).unwrap();
    }
    text.lines().map(str::to_string).collect()
}

/// The streaming command (blocks, threads, start-up window) gives the library's causal
/// estimate, `.csv` and `.csv.gz` alike, over many blocks.
#[test]
fn streaming_output_equals_the_library_estimate() {
    use twistcoach::stream::{Samples, read_stream};
    let dir = tmp_dir("streaming");
    let text = moving_recording(9000, 1000);
    for (name, bytes) in [("m.csv", text.clone().into_bytes()), ("m.csv.gz", gz(text.as_bytes()))] {
        let input = dir.join(name);
        std::fs::write(&input, bytes).unwrap();
        let stream = read_stream(&input).unwrap();
        let Samples::Imu(samples) = &stream.samples else {
            panic!()
        };
        for use_mag in [true, false] {
            let out_path = dir.join("q.csv");
            let extra: &[&str] = if use_mag { &[] } else { &["--no-mag"] };
            let out = run_orientation(&input, &out_path, extra);
            assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
            assert_rows_are_the_estimate(name, &out_path, &stream.t_text, samples, use_mag);
        }
    }
}

/// The rows of the output at `out_path` are the library's causal estimate of `samples`,
/// each with its time text as read.
fn assert_rows_are_the_estimate(
    name: &str,
    out_path: &Path,
    t_text: &[Box<str>],
    samples: &[twistcoach::stream::ImuSample],
    use_mag: bool,
) {
    use twistcoach::orientation::{Settings, estimate_causal};
    let rows = output_rows(out_path);
    let expected = estimate_causal(
        samples,
        Settings {
            use_mag,
            ..Settings::default()
        },
    );
    assert_eq!(rows.len(), expected.len() + 1, "{name}");
    for ((row, q), t) in rows[1..].iter().zip(&expected).zip(t_text) {
        let f: Vec<&str> = row.split(',').collect();
        assert_eq!(f[0], &**t);
        let v: Vec<f64> = f[1..].iter().map(|x| x.parse().unwrap()).collect();
        for (a, b) in v.iter().zip([q.w, q.x, q.y, q.z]) {
            assert!((a - b).abs() < 1e-9, "{name} {row}: {a} vs {b}");
        }
    }
}

/// A problem planted in line `line` (0-based, of `lines`) of a valid recording.
fn plant(lines: &mut [String], line: usize, kind: u8) {
    let previous_t = lines[line - 1].split(',').next().unwrap_or("").to_string();
    let l = &mut lines[line];
    match kind % 9 {
        0 => l.push('x'),                                                // not a number
        1 => *l = l.replacen(',', ",,", 1),                              // an empty field
        2 => l.truncate(l.rfind(',').unwrap()),                          // a field short
        3 => *l = format!("{previous_t}{}", &l[l.find(',').unwrap()..]), // time not increasing
        4 => l.insert(3, '\0'),                                          // a NUL byte
        5 => l.push('\u{1}'),                                            // made an invalid UTF-8 byte below
        6 => *l = format!("{l}\r"),                                      // CRLF: fine
        7 => *l = format!("# a comment\n{l}"),                           // a comment after the header
        _ => *l = format!("\n{l}"),                                      // a blank line: fine
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 32, ..Default::default() })]

    /// The two-thread command against the library's whole-file reader and estimate, on
    /// recordings of several 64 KB pieces (so both threads parse, and pieces are stitched
    /// in order) with up to three planted problems (or CRLFs and blank lines) at random lines:
    /// exit 2 with the library's message (the first problem of the file, whichever thread
    /// parsed it), or exit 0 with the library's estimate. Plain and gzip.
    #[test]
    fn the_command_agrees_with_the_library_on_planted_problems(
        plants in proptest::collection::vec((1usize..4000, proptest::prelude::any::<u8>()), 0..4),
        gzip in proptest::prelude::any::<bool>(),
        use_mag in proptest::prelude::any::<bool>(),
    ) {
        use twistcoach::stream::{Samples, read_stream};
        let text = moving_recording(4000, 0);
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        for &(line, kind) in &plants {
            plant(&mut lines, line + 1, kind);
        }
        let mut bytes = lines.join("\n").into_bytes();
        bytes.push(b'\n');
        for b in bytes.iter_mut().filter(|b| **b == 1) {
            *b = 0xFF;
        }
        let dir = tmp_dir("planted");
        let name = if gzip { "p.csv.gz" } else { "p.csv" };
        let input = dir.join(name);
        std::fs::write(&input, if gzip { gz(&bytes) } else { bytes }).unwrap();
        let out_path = dir.join("q.csv");
        let extra: &[&str] = if use_mag { &[] } else { &["--no-mag"] };
        let out = run_orientation(&input, &out_path, extra);
        let stderr = String::from_utf8_lossy(&out.stderr);
        match read_stream(&input) {
            Err(e) => {
                proptest::prop_assert_eq!(out.status.code(), Some(2), "{}", stderr);
                proptest::prop_assert!(stderr.contains(&e.to_string()), "{} vs {}", stderr, e);
                proptest::prop_assert!(!out_path.exists());
            }
            Ok(stream) => {
                proptest::prop_assert_eq!(out.status.code(), Some(0), "{}", stderr);
                let Samples::Imu(samples) = &stream.samples else { panic!() };
                assert_rows_are_the_estimate(name, &out_path, &stream.t_text, samples, use_mag);
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Spec §6: without --offline the estimate at t uses only samples up to t. Rows after the
/// start-up window (here a change of rate at row 9000 and 1000 more rows) change no
/// earlier row of the output.
#[test]
fn later_samples_change_no_earlier_estimate() {
    let dir = tmp_dir("causal");
    let short = dir.join("short.csv");
    let long = dir.join("long.csv");
    std::fs::write(&short, moving_recording(9000, 0)).unwrap();
    std::fs::write(&long, moving_recording(9000, 1000)).unwrap();
    let (a, b) = (dir.join("a.csv"), dir.join("b.csv"));
    assert_eq!(run_orientation(&short, &a, &[]).status.code(), Some(0));
    assert_eq!(run_orientation(&long, &b, &[]).status.code(), Some(0));
    let (a, b) = (output_rows(&a), output_rows(&b));
    assert_eq!(a.len(), 9001);
    assert_eq!(b.len(), 10_001);
    assert_eq!(a[..], b[..a.len()]);
}

/// The rows go to a temporary file beside the output while the input is still being
/// checked: an existing output is replaced only by a whole new one, a late problem in the
/// input leaves it as it was, and no temporary file is left either way.
#[test]
fn an_existing_output_is_replaced_only_whole() {
    let dir = tmp_dir("staged");
    let out = dir.join("o.csv");
    std::fs::write(&out, "previous contents\n").unwrap();
    let mut text = moving_recording(30_000, 0);
    let good = dir.join("good.csv");
    std::fs::write(&good, &text).unwrap();
    text.push_str("400.0,1,2,3,4,5,6,7,8,x\n");
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, &text).unwrap();
    let files = || {
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };

    let failed = run_orientation(&bad, &out, &[]);
    assert_eq!(
        failed.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&failed.stderr)
    );
    assert!(String::from_utf8_lossy(&failed.stderr).contains("line 30003"));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous contents\n");
    assert_eq!(files(), ["bad.csv", "good.csv", "o.csv"]);

    let done = run_orientation(&good, &out, &[]);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    assert_eq!(output_rows(&out).len(), 30_001);
    assert_eq!(files(), ["bad.csv", "good.csv", "o.csv"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// With one CPU allowed nothing is pinned and both threads share it: the same file, to the
/// byte, as with every CPU the test may use (`commands/orientation/cpus.rs`). The child
/// inherits the affinity of the thread that starts it.
#[cfg(target_os = "linux")]
#[test]
fn the_output_is_the_same_on_one_cpu() {
    use rustix::thread::{CpuSet, sched_getaffinity, sched_setaffinity};
    let dir = tmp_dir("one-cpu");
    let input = dir.join("m.csv");
    std::fs::write(&input, moving_recording(9000, 1000)).unwrap();
    let all = sched_getaffinity(None).unwrap();
    let first = (0..CpuSet::MAX_CPU).find(|&c| all.is_set(c)).unwrap();
    let mut one = CpuSet::new();
    one.set(first);
    for extra in [&[][..], &["--no-mag"][..]] {
        let (free, pinned) = (dir.join("free.csv"), dir.join("one.csv"));
        let out = run_orientation(&input, &free, extra);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        sched_setaffinity(None, &one).unwrap();
        let out = run_orientation(&input, &pinned, extra);
        sched_setaffinity(None, &all).unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(
            std::fs::read(&free).unwrap() == std::fs::read(&pinned).unwrap(),
            "{extra:?}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

//! Generic CSV streams (spec §5): raw IMU (`t,ax,ay,az,gx,gy,gz[,mx,my,mz]`) and
//! orientation (`t,qw,qx,qy,qz`).
//!
//! Parsing is pure (`parse_stream` over bytes); reading a file and gunzipping it sits in
//! `stream::read_file`. Validation is strict: anything malformed is refused with the line
//! and the problem, nothing is guessed.

use std::path::Path;

use crate::error::{BadInput, IMU_HEADER_6D, IMU_HEADER_9D, ORIENTATION_HEADER, Problem};
use crate::frames::{Quat, Vec3};

/// One raw IMU sample in the sensor frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImuSample {
    pub t_s: f64,
    pub acc_sensor_mps2: Vec3,
    pub gyr_sensor_rps: Vec3,
    /// Magnetic field in any consistent unit (µT usual); `None` for 6-axis streams.
    pub mag_sensor: Option<Vec3>,
}

/// One orientation sample, `q_world_from_sensor` (z-up world).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrientationSample {
    pub t_s: f64,
    pub q_world_from_sensor: Quat,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Samples {
    Imu(Vec<ImuSample>),
    Orientation(Vec<OrientationSample>),
}

/// A parsed stream. `t_text` keeps each row's time exactly as written, so that outputs
/// can repeat it to the letter.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    pub samples: Samples,
    pub t_text: Vec<Box<str>>,
}

impl Stream {
    pub fn len(&self) -> usize {
        self.t_text.len()
    }
    pub fn is_empty(&self) -> bool {
        self.t_text.is_empty()
    }
    pub fn has_mag(&self) -> bool {
        matches!(&self.samples, Samples::Imu(s) if s.first().is_some_and(|s| s.mag_sensor.is_some()))
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Layout {
    Imu6,
    Imu9,
    Orientation,
}

impl Layout {
    fn from_header(h: &str) -> Option<Layout> {
        match h {
            IMU_HEADER_6D => Some(Layout::Imu6),
            IMU_HEADER_9D => Some(Layout::Imu9),
            ORIENTATION_HEADER => Some(Layout::Orientation),
            _ => None,
        }
    }
    fn columns(self) -> &'static [&'static str] {
        const NAMES: [&str; 10] = ["t", "ax", "ay", "az", "gx", "gy", "gz", "mx", "my", "mz"];
        const Q: [&str; 5] = ["t", "qw", "qx", "qy", "qz"];
        match self {
            Layout::Imu6 => &NAMES[..7],
            Layout::Imu9 => &NAMES[..],
            Layout::Orientation => &Q,
        }
    }
}

/// Largest accepted deviation of an orientation quaternion's length from 1 before the row
/// is refused; within it the quaternion is normalised (sensors quantise their output).
const QUAT_NORM_TOLERANCE: f64 = 0.1;

/// Parse a whole CSV stream held in memory. `path` only names the file in errors.
pub fn parse_stream(path: &Path, bytes: &[u8]) -> Result<Stream, BadInput> {
    let bad_line = |line: usize, p: Problem| BadInput::at_line(path, line, p);
    if bytes.is_empty() {
        return Err(BadInput::file(path, Problem::Empty));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) if !t.contains('\0') => t,
        Ok(t) => {
            let at = t.find('\0').unwrap_or(0);
            return Err(bad_line(line_of_offset(bytes, at), Problem::BinaryData));
        }
        Err(e) => return Err(bad_line(line_of_offset(bytes, e.valid_up_to()), Problem::BinaryData)),
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let ends_with_newline = text.ends_with('\n');

    let mut lines = split_bytewise(text, b'\n').enumerate().peekable();
    // Header: skip blank lines and `#` comments before it.
    let layout = loop {
        let Some((i, raw)) = lines.next() else {
            return Err(BadInput::file(path, Problem::Empty));
        };
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        match Layout::from_header(line) {
            Some(l) => break l,
            None => {
                return Err(bad_line(
                    i + 1,
                    Problem::WrongHeader {
                        found: truncate_for_message(line),
                    },
                ));
            }
        }
    };
    let columns = layout.columns();
    let n_cols = columns.len();

    let mut t_text: Vec<Box<str>> = Vec::new();
    let mut imu = Vec::new();
    let mut orient = Vec::new();
    let mut fields = [0.0f64; 10];
    let mut previous_t = f64::NEG_INFINITY;
    while let Some((i, raw)) = lines.next() {
        let line_no = i + 1;
        // Only a last line without a final newline can be "truncated".
        let maybe_truncated = lines.peek().is_none() && !ends_with_newline;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with('#') {
            return Err(bad_line(line_no, Problem::CommentAfterHeader));
        }
        let mut count = 0;
        let mut t_str = "";
        for (k, field) in split_bytewise(line, b',').enumerate() {
            count += 1;
            if k >= n_cols {
                continue;
            }
            let value: f64 = match parse_f64(field) {
                Ok(v) => v,
                Err(_) => {
                    // Count the fields first: a short last line is "truncated", not "not a number".
                    let found = line.split(',').count();
                    if found != n_cols {
                        return Err(field_count_error(path, line_no, found, n_cols, maybe_truncated));
                    }
                    return Err(bad_line(
                        line_no,
                        Problem::NotNumeric {
                            column: columns[k].into(),
                            value: truncate_for_message(field),
                        },
                    ));
                }
            };
            if !value.is_finite() {
                return Err(bad_line(
                    line_no,
                    Problem::NotFinite {
                        column: columns[k].into(),
                        value: truncate_for_message(field),
                    },
                ));
            }
            if k == 0 {
                t_str = field;
            }
            fields[k] = value;
        }
        if count != n_cols {
            return Err(field_count_error(path, line_no, count, n_cols, maybe_truncated));
        }
        let t_s = fields[0];
        if t_s <= previous_t {
            return Err(bad_line(
                line_no,
                Problem::TimeNotIncreasing {
                    previous: previous_t,
                    now: t_s,
                },
            ));
        }
        previous_t = t_s;
        t_text.push(t_str.into());
        match layout {
            Layout::Imu6 | Layout::Imu9 => imu.push(ImuSample {
                t_s,
                acc_sensor_mps2: [fields[1], fields[2], fields[3]],
                gyr_sensor_rps: [fields[4], fields[5], fields[6]],
                mag_sensor: (layout == Layout::Imu9).then_some([fields[7], fields[8], fields[9]]),
            }),
            Layout::Orientation => {
                let q = Quat::new(fields[1], fields[2], fields[3], fields[4]);
                let norm = q.norm();
                if (norm - 1.0).abs() > QUAT_NORM_TOLERANCE {
                    return Err(bad_line(line_no, Problem::BadQuaternion { norm }));
                }
                orient.push(OrientationSample {
                    t_s,
                    q_world_from_sensor: q.normalized(),
                });
            }
        }
    }
    if t_text.is_empty() {
        return Err(BadInput::file(path, Problem::TooShort { samples: 0 }));
    }
    let samples = match layout {
        Layout::Orientation => Samples::Orientation(orient),
        _ => Samples::Imu(imu),
    };
    Ok(Stream { samples, t_text })
}

/// `field.parse::<f64>()`, faster: `fast-float2` accepts and rejects exactly what the
/// standard library does (checked by the `parse_f64_agrees_with_std` property test) and
/// rounds the same way (both are correctly rounded).
fn parse_f64(field: &str) -> Result<f64, ()> {
    fast_float2::parse(field.as_bytes()).map_err(|_| ())
}

/// `text.split(sep)` for an ASCII separator, as a plain byte scan: `split` with a `char`
/// pattern costs a third of the parse time on long streams.
fn split_bytewise(text: &str, sep: u8) -> impl Iterator<Item = &str> {
    debug_assert!(sep.is_ascii());
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.as_bytes().iter().position(|&b| b == sep) {
            Some(i) => {
                rest = Some(&r[i + 1..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

fn field_count_error(path: &Path, line: usize, found: usize, expected: usize, last_line: bool) -> BadInput {
    BadInput::at_line(
        path,
        line,
        Problem::FieldCount {
            found,
            expected,
            last_line,
        },
    )
}

fn line_of_offset(bytes: &[u8], offset: usize) -> usize {
    1 + bytes[..offset.min(bytes.len())].iter().filter(|&&b| b == b'\n').count()
}

fn truncate_for_message(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Stream, BadInput> {
        parse_stream(Path::new("x.csv"), s.as_bytes())
    }

    fn problem(s: &str) -> (Option<usize>, Problem) {
        let e = parse(s).unwrap_err();
        (e.line, e.problem)
    }

    #[test]
    fn reads_imu_9d_with_comments_crlf_bom_and_blank_lines() {
        let s = "\u{feff}# made by hand\r\n\r\nt,ax,ay,az,gx,gy,gz,mx,my,mz\r\n0.0,0,0,9.81,0,0,0,1,2,3\r\n\r\n0.01,0,0,9.8,0.1,0,0,1,2,3";
        let st = parse(s).unwrap();
        assert_eq!(st.len(), 2);
        assert!(st.has_mag());
        let Samples::Imu(v) = &st.samples else { panic!() };
        assert_eq!(v[1].gyr_sensor_rps, [0.1, 0.0, 0.0]);
        assert_eq!(&*st.t_text[1], "0.01");
    }

    #[test]
    fn reads_orientation_and_normalises_slightly_off_quaternions() {
        let st = parse("t,qw,qx,qy,qz\n1770.5,1.02,0,0,0\n").unwrap();
        let Samples::Orientation(v) = &st.samples else { panic!() };
        assert_eq!(v[0].q_world_from_sensor, Quat::IDENTITY);
        assert_eq!(v[0].t_s, 1770.5);
    }

    #[test]
    fn refuses_each_malformation_with_its_line() {
        let h = "# c\nt,ax,ay,az,gx,gy,gz\n";
        assert_eq!(problem(""), (None, Problem::Empty));
        assert_eq!(problem("# only a comment\n\n"), (None, Problem::Empty));
        assert!(matches!(
            problem("t, ax,ay,az,gx,gy,gz\n"),
            (Some(1), Problem::WrongHeader { .. })
        ));
        assert!(matches!(
            problem("T,ax,ay,az,gx,gy,gz\n"),
            (Some(1), Problem::WrongHeader { .. })
        ));
        assert!(matches!(
            problem("t,qw,qx,qy,qz,movement\n"),
            (Some(1), Problem::WrongHeader { .. })
        ));
        assert_eq!(problem(h), (None, Problem::TooShort { samples: 0 }));
        assert!(matches!(
            problem(&format!("{h}0,1,2,3,4,5,x\n")),
            (Some(3), Problem::NotNumeric { column, .. }) if column == "gz"
        ));
        assert!(matches!(
            problem(&format!("{h}0,1,2,NaN,4,5,6\n")),
            (Some(3), Problem::NotFinite { .. })
        ));
        assert!(matches!(
            problem(&format!("{h}0,1,2,inf,4,5,6\n")),
            (Some(3), Problem::NotFinite { .. })
        ));
        assert!(matches!(
            problem(&format!("{h}0,1,2,3,4,5,6,7\n")),
            (
                Some(3),
                Problem::FieldCount {
                    found: 8,
                    expected: 7,
                    ..
                }
            )
        ));
        assert!(matches!(
            problem(&format!("{h}0,1,2,3,4,5,6\n1,1,2,3,4,5\n2,1,2,3,4,5,6\n")),
            (
                Some(4),
                Problem::FieldCount {
                    found: 6,
                    last_line: false,
                    ..
                }
            )
        ));
        assert!(matches!(
            problem(&format!("{h}0,1,2,3,4,5,6\n1,1,2,3,4,5\n")),
            (Some(4), Problem::FieldCount { last_line: false, .. })
        ));
        assert!(matches!(
            problem(&format!("{h}0,1,2,3,4,5,6\n1,1,2,3,4")),
            (
                Some(4),
                Problem::FieldCount {
                    found: 5,
                    last_line: true,
                    ..
                }
            )
        ));
        assert!(matches!(
            problem(&format!("{h}0,1,2,3,4,5,6\n1,1,2,3,4,")),
            (
                Some(4),
                Problem::FieldCount {
                    found: 6,
                    last_line: true,
                    ..
                }
            )
        ));
        assert!(matches!(
            problem(&format!("{h}0.5,1,2,3,4,5,6\n0.5,1,2,3,4,5,6\n")),
            (Some(4), Problem::TimeNotIncreasing { .. })
        ));
        assert_eq!(
            problem(&format!("{h}0,1,2,3,4,5,6\n# late\n")),
            (Some(4), Problem::CommentAfterHeader)
        );
        assert!(matches!(
            problem("t,qw,qx,qy,qz\n0,0,0,0,0\n"),
            (Some(2), Problem::BadQuaternion { .. })
        ));
        let mut bin = h.as_bytes().to_vec();
        bin.extend_from_slice(&[0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe]);
        let e = parse_stream(Path::new("x.csv"), &bin).unwrap_err();
        assert_eq!((e.line, e.problem), (Some(3), Problem::BinaryData));
    }

    #[test]
    fn message_names_file_line_and_problem() {
        let e = parse("t,ax,ay,az,gx,gy,gz\n0,1,2,3,4,5,abc\n").unwrap_err();
        assert_eq!(e.to_string(), "x.csv: line 2: field `gz` is not a number: `abc`");
    }

    #[test]
    fn keeps_time_text_exactly() {
        let st = parse("t,qw,qx,qy,qz\n1e-3,1,0,0,0\n0.0020000,1,0,0,0\n").unwrap();
        assert_eq!(
            st.t_text.iter().map(|s| &**s).collect::<Vec<_>>(),
            ["1e-3", "0.0020000"]
        );
    }

    #[test]
    fn parse_f64_accepts_and_rejects_what_std_does() {
        for field in [
            "inf",
            "+inf",
            "-Infinity",
            "infinity",
            "INF",
            "infinityx",
            "NaN",
            "nan",
            "+nan",
            "1.",
            "1.e5",
            ".5",
            "+.5",
            ".",
            "-.e1",
            "e5",
            "1e",
            "1e+",
            "+1",
            "++1",
            " 1",
            "1 ",
            "0x10",
            "1_0",
            "1d",
            "1f",
            "-0",
            "1E5",
            "\u{663}",
            "1.5e400",
            "1e-400",
            "",
            "0.0035000",
            "-41.3078",
            "9.905357",
        ] {
            let ours = parse_f64(field).ok().map(f64::to_bits);
            assert_eq!(ours, field.parse::<f64>().ok().map(f64::to_bits), "{field:?}");
        }
    }

    mod never_panics {
        use super::*;
        use proptest::prelude::*;

        const VALID: &str =
            "# c\nt,ax,ay,az,gx,gy,gz,mx,my,mz\n0.0,0,0,9.81,0,0,0,1,2,3\n0.01,0.1,0,9.8,0.1,0,0,1,2,3\n";

        proptest! {
            #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

            #[test]
            fn on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
                let _ = parse_stream(Path::new("r.csv"), &bytes);
            }

            #[test]
            fn on_mutated_valid_files(pos in 0usize..VALID.len(), cut in any::<bool>(), byte in any::<u8>()) {
                let mut b = VALID.as_bytes().to_vec();
                if cut { b.truncate(pos) } else { b[pos] = byte }
                match parse_stream(Path::new("m.csv"), &b) {
                    Ok(st) => prop_assert!(!st.is_empty()),
                    Err(e) => prop_assert!(e.to_string().starts_with("m.csv")),
                }
            }

            #[test]
            fn parse_f64_agrees_with_std(field in "[-+0-9.eEnaifINAFty_x ]{0,24}") {
                let ours = parse_f64(&field).ok().map(f64::to_bits);
                let std = field.parse::<f64>().ok().map(f64::to_bits);
                prop_assert_eq!(ours, std, "field {:?}", field);
            }

            #[test]
            fn parse_f64_agrees_with_std_on_numbers(x in any::<f64>(), digits in 1usize..20) {
                for text in [format!("{x}"), format!("{x:e}"), format!("{x:.digits$}"), format!("{x:.digits$e}")] {
                    prop_assert_eq!(parse_f64(&text).ok().map(f64::to_bits), text.parse::<f64>().ok().map(f64::to_bits));
                }
            }

            #[test]
            fn on_random_text_rows(rows in proptest::collection::vec("[-0-9.,eEnaif+ ]{0,40}", 0..20)) {
                let text = format!("t,qw,qx,qy,qz\n{}", rows.join("\n"));
                let _ = parse_stream(Path::new("t.csv"), text.as_bytes());
            }
        }
    }
}

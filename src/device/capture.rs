//! The notification capture text format (`fixtures/ble/*/stream.hex`): one notification
//! per line, `receive_s characteristic_uuid hex_bytes`, `#` comment lines anywhere, blank
//! lines ignored. Used by the fixtures and for decoding captures of real devices.
//!
//! Pure: text in, notifications out; errors name the line (1-based) and what is wrong.

use std::fmt::Write as _;

use crate::error::Problem;

use super::{Uuid, hex};

/// One captured notification.
#[derive(Debug, Clone, PartialEq)]
pub struct CapturedNotification {
    /// 1-based line in the capture text.
    pub line: usize,
    /// Host receive time (s).
    pub receive_s: f64,
    pub characteristic: Uuid,
    pub bytes: Vec<u8>,
}

/// Parse capture text. On error: the 1-based line and the problem.
pub fn parse(text: &str) -> Result<Vec<CapturedNotification>, (usize, Problem)> {
    let mut out: Vec<CapturedNotification> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = l.split_whitespace().collect();
        let [t, uuid, bytes] = fields[..] else {
            return Err((
                line,
                Problem::Other(format!(
                    "expected `receive_s characteristic_uuid hex_bytes`, found {} fields",
                    fields.len()
                )),
            ));
        };
        let receive_s: f64 = t.parse().map_err(|_| {
            (
                line,
                Problem::NotNumeric {
                    column: "receive_s".to_string(),
                    value: t.to_string(),
                },
            )
        })?;
        if !receive_s.is_finite() {
            return Err((
                line,
                Problem::NotFinite {
                    column: "receive_s".to_string(),
                    value: t.to_string(),
                },
            ));
        }
        if let Some(prev) = out.last()
            && receive_s < prev.receive_s
        {
            return Err((
                line,
                Problem::Other(format!(
                    "receive time {receive_s} is earlier than {} on the line before; captures are in arrival order",
                    prev.receive_s
                )),
            ));
        }
        let characteristic = Uuid::parse(uuid).ok_or_else(|| {
            (
                line,
                Problem::Other(format!(
                    "`{uuid}` is not a 128-bit UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"
                )),
            )
        })?;
        let bytes = hex::parse(bytes).ok_or_else(|| {
            (
                line,
                Problem::Other(format!("`{bytes}` is not an even number of hex digits")),
            )
        })?;
        out.push(CapturedNotification {
            line,
            receive_s,
            characteristic,
            bytes,
        });
    }
    Ok(out)
}

/// Format notifications as capture text, after `comments` (each becomes a `# ` line).
pub fn format(comments: &[&str], notifications: &[(f64, Uuid, &[u8])]) -> String {
    let mut s = String::new();
    for c in comments {
        let _ = writeln!(s, "# {c}");
    }
    for (receive_s, uuid, bytes) in notifications {
        let _ = writeln!(s, "{receive_s:.6} {uuid} {}", hex::format(bytes));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: &str = "0000ffe4-0000-1000-8000-00805f9a34fb";

    #[test]
    fn round_trip() {
        let uuid = Uuid::parse(U).unwrap();
        let text = format(&["a capture"], &[(0.5, uuid, &[0x55, 0x61]), (0.75, uuid, &[])]);
        assert_eq!(text, format!("# a capture\n0.500000 {U} 5561\n0.750000 {U} \n"));
        // An empty notification has no hex field: three fields are required.
        assert!(parse(&text).is_err());
        let text = format(&["a capture"], &[(0.5, uuid, &[0x55, 0x61])]);
        let n = parse(&text).unwrap();
        assert_eq!(n.len(), 1);
        assert_eq!((n[0].line, n[0].bytes.as_slice()), (2, &[0x55u8, 0x61][..]));
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(text in "(?s).{0,200}") {
            let _ = parse(&text);
        }
    }

    #[test]
    fn errors_name_the_line() {
        let bad = |t: &str| parse(t).unwrap_err().0;
        assert_eq!(bad(&format!("# c\n\n0.1 {U} 55\nx {U} 55\n")), 4);
        assert_eq!(bad(&format!("0.1 {U} 5\n")), 1);
        assert_eq!(bad("0.1 ffe4 55\n"), 1);
        assert_eq!(bad(&format!("0.2 {U} 55\n0.1 {U} 55\n")), 2);
        assert_eq!(bad(&format!("inf {U} 55\n")), 1);
    }
}

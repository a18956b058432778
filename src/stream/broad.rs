//! BROAD benchmark ground truth (`t,qw,qx,qy,qz,movement`, empty q fields where the
//! optical system had no truth), as converted in `shared/data/broad`.

use std::path::Path;

use crate::error::{BadInput, Problem};
use crate::frames::Quat;
use crate::orientation::accuracy::TruthSample;

pub const TRUTH_HEADER: &str = "t,qw,qx,qy,qz,movement";

/// Parse a BROAD truth file held in memory. Returns the times and the truth rows.
pub fn parse_truth(path: &Path, bytes: &[u8]) -> Result<(Vec<f64>, Vec<TruthSample>), BadInput> {
    let text = std::str::from_utf8(bytes).map_err(|_| BadInput::file(path, Problem::BinaryData))?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    match lines.next() {
        Some((_, h)) if h.trim_end() == TRUTH_HEADER => {}
        Some((i, h)) => return Err(BadInput::at_line(path, i + 1, Problem::WrongHeader { found: h.into() })),
        None => return Err(BadInput::file(path, Problem::Empty)),
    }
    let (mut times, mut rows) = (Vec::new(), Vec::new());
    for (i, line) in lines {
        let f: Vec<&str> = line.trim_end().split(',').collect();
        if f.len() != 6 {
            let p = Problem::FieldCount {
                found: f.len(),
                expected: 6,
                last_line: false,
            };
            return Err(BadInput::at_line(path, i + 1, p));
        }
        let num = |k: usize| -> Result<f64, BadInput> {
            f[k].parse().map_err(|_| {
                let p = Problem::NotNumeric {
                    column: TRUTH_HEADER.split(',').nth(k).unwrap_or("?").into(),
                    value: f[k].into(),
                };
                BadInput::at_line(path, i + 1, p)
            })
        };
        times.push(num(0)?);
        let q = if f[1].is_empty() {
            None
        } else {
            Some(Quat::new(num(1)?, num(2)?, num(3)?, num(4)?))
        };
        rows.push(TruthSample {
            q_world_from_sensor: q,
            movement: num(5)? != 0.0,
        });
    }
    Ok((times, rows))
}

//! `history export`: CSV (one row per rep, session columns repeated; a session without
//! reps gets one row with empty rep columns) and JSON (one object per session: the report
//! as read plus `history_id`, `started_at` and `user_notes`, re-importable with
//! `history import`).

use std::fmt::Write as _;

use super::StoredSession;
use super::import::record_to_json;
use super::store::hold_on_target;

pub const CSV_HEADER: &str = "session_id,started_at,variation,caution,sensors,hold_min_s,hold_max_s,\
over_rotation_deg,too_fast_dps,session_flags,pain_before,pain_after,symptoms,user_note,\
rep,side,start_s,hold_start_s,hold_end_s,end_s,hold_s,peak_deg,hold_mean_deg,hold_on_target,rep_flags,rep_notes";

/// Quote a CSV field when it needs it (RFC 4180).
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn name<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

pub fn to_csv(sessions: &[StoredSession]) -> String {
    let mut out = String::with_capacity(256 * sessions.len() + CSV_HEADER.len());
    out.push_str(CSV_HEADER);
    out.push('\n');
    for s in sessions {
        let r = &s.record.report;
        let u = &s.record.user;
        let session_cols = [
            s.id.to_string(),
            s.record.started.to_string(),
            name(&r.variation),
            opt(&r.caution),
            r.sensors.iter().map(name).collect::<Vec<_>>().join(" "),
            r.targets.hold_min_s.to_string(),
            r.targets.hold_max_s.to_string(),
            r.targets.over_rotation_deg.to_string(),
            r.targets.too_fast_dps.to_string(),
            r.flags.iter().map(name).collect::<Vec<_>>().join(" "),
            opt(&u.pain_before),
            opt(&u.pain_after),
            u.symptoms.iter().map(|s| s.tag()).collect::<Vec<_>>().join(" "),
            opt(&u.note),
        ]
        .iter()
        .map(|f| field(f))
        .collect::<Vec<_>>()
        .join(",");
        if r.reps.is_empty() {
            let _ = writeln!(out, "{session_cols},,,,,,,,,,,,");
        }
        for (i, rep) in r.reps.iter().enumerate() {
            let rep_cols = [
                (i + 1).to_string(),
                name(&rep.side),
                rep.start_s.to_string(),
                rep.hold_start_s.to_string(),
                rep.hold_end_s.to_string(),
                rep.end_s.to_string(),
                rep.hold_s.to_string(),
                rep.peak_deg.to_string(),
                rep.hold_mean_deg.to_string(),
                hold_on_target(rep, &r.targets).to_string(),
                rep.flags.iter().map(name).collect::<Vec<_>>().join(" "),
                rep.notes.join("; "),
            ]
            .iter()
            .map(|f| field(f))
            .collect::<Vec<_>>()
            .join(",");
            let _ = writeln!(out, "{session_cols},{rep_cols}");
        }
    }
    out
}

pub fn to_json(sessions: &[StoredSession]) -> String {
    let items: Vec<serde_json::Value> = sessions
        .iter()
        .map(|s| {
            let mut v = record_to_json(&s.record);
            if let Some(obj) = v.as_object_mut() {
                obj.insert(super::import::EXPORT_ID_KEY.into(), serde_json::Value::from(s.id));
            }
            v
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn header_and_empty_session_row_have_the_same_number_of_columns() {
        let header_cols = CSV_HEADER.split(',').count();
        // 14 session columns + 12 rep columns.
        assert_eq!(header_cols, 26);
    }
}

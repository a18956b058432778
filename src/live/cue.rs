//! One plain-language cue at a time, from the live state. Pure.

use crate::body::Placement;
use crate::session::report::Side;

/// What the person should do now.
#[derive(Debug, Clone, PartialEq)]
pub enum Cue {
    /// A sensor is not (yet) connected.
    Connecting { placement: Placement },
    /// A sensor dropped out mid-session; the hold timer is paused.
    Reconnecting { placement: Placement },
    /// Neutral not calibrated yet.
    Calibrate,
    /// At neutral: turn to this side.
    Turn { side: Side, other_side: bool },
    /// Turning faster than the limit.
    Slower,
    /// Past the over-rotation limit.
    EaseOff,
    /// In the stretch, the hold timer runs.
    Hold,
    /// The hold target is met (or the person is on the way back).
    ReturnToCentre,
    /// The session ended.
    Done,
}

fn side_word(s: Side) -> &'static str {
    match s {
        Side::Left => "left",
        Side::Right => "right",
    }
}

impl Cue {
    /// The words shown and printed.
    pub fn text(&self) -> String {
        match self {
            Cue::Connecting { placement } => format!("connecting to the {} sensor…", placement.name()),
            Cue::Reconnecting { placement } => {
                format!("{} sensor lost: reconnecting, stay where you are", placement.name())
            }
            Cue::Calibrate => "stay still 2 s to calibrate".to_string(),
            Cue::Turn { side, other_side: true } => format!("now the other side: turn slowly {}", side_word(*side)),
            Cue::Turn {
                side,
                other_side: false,
            } => format!("turn slowly {}", side_word(*side)),
            Cue::Slower => "slower".to_string(),
            Cue::EaseOff => "ease off".to_string(),
            Cue::Hold => "hold…".to_string(),
            Cue::ReturnToCentre => "return to centre".to_string(),
            Cue::Done => "session over".to_string(),
        }
    }
}

/// The side to do next: the one done less often; on a tie the other side than the last
/// rep's ("return slowly, other side"); left first. The flag says whether it is a switch.
pub fn next_side(left_reps: usize, right_reps: usize, last_rep: Option<Side>) -> (Side, bool) {
    if left_reps > right_reps {
        (Side::Right, true)
    } else if right_reps > left_reps {
        (Side::Left, true)
    } else {
        match last_rep {
            Some(Side::Left) => (Side::Right, true),
            Some(Side::Right) => (Side::Left, true),
            None => (Side::Left, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_next_side() {
        assert_eq!(Cue::Calibrate.text(), "stay still 2 s to calibrate");
        assert_eq!(next_side(0, 0, None), (Side::Left, false));
        assert_eq!(next_side(1, 0, Some(Side::Left)), (Side::Right, true));
        assert_eq!(next_side(2, 3, Some(Side::Right)), (Side::Left, true));
        // A tie after reps: the other side than the last one, not always left.
        assert_eq!(next_side(2, 2, Some(Side::Left)), (Side::Right, true));
        assert_eq!(next_side(1, 1, Some(Side::Right)), (Side::Left, true));
        assert_eq!(
            Cue::Turn {
                side: Side::Right,
                other_side: true
            }
            .text(),
            "now the other side: turn slowly right"
        );
    }
}

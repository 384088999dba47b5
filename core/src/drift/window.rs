//! Which predictions a drift window holds, parsed once for every caller (command line,
//! API, dashboard, scheduler, stored reports).
//!
//! The end bound, in one place: a range is read as `[since, until)`; the newest `n` are
//! read up to [`end_after`] their newest prediction, one microsecond (the resolution of
//! stored times) later. A report stores the window's start and, as the end people read,
//! `until` for a range and the newest prediction's time for the newest `n`, and beside them
//! the exact bounds it read with ([`ReadBounds`]): reading a stored report's window again
//! ([`WindowSpec::of_report`]) finds exactly the predictions the report analysed.

use chrono::{DateTime, Duration, Utc};

/// Length of a range given without `since`: one hour before its end (command line, API).
pub const DEFAULT_LENGTH: Duration = Duration::hours(1);

/// Most predictions the dashboard's `last-N` choice may ask for.
pub const MAX_LAST_CHOICE: i64 = 1_000_000;

/// Which predictions a drift window holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowSpec {
    /// Created in `[since, until)`.
    Range {
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    },
    /// The newest `n` (in the order `(created_at, id)`), `n` at least 1.
    Last(i64),
    /// Exactly the predictions a stored report read (see [`ReadBounds`]).
    Reread(ReadBounds),
}

/// The bounds a window was read with: from `(since, first_id)` in the order
/// `(created_at, id)` (`first_id` None: every id at `since`) up to `until`, excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadBounds {
    pub since: DateTime<Utc>,
    pub first_id: Option<uuid::Uuid>,
    pub until: DateTime<Utc>,
}

impl WindowSpec {
    /// The window named by the three ways of giving one: `last` alone, or `since` and
    /// `until` (each optional: `until` defaults to `now`, `since` to [`DEFAULT_LENGTH`]
    /// before `until`).
    ///
    /// Errors (sentences for the user): `last` with `since` or `until`, `last` below 1, `since` not
    /// before `until`.
    pub fn from_parts(
        last: Option<i64>,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Self, String> {
        match (last, since, until) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                Err("give either `last` or `since`/`until`, not both".into())
            }
            (Some(n), None, None) if n >= 1 => Ok(WindowSpec::Last(n)),
            (Some(n), None, None) => Err(format!("last must be at least 1, got {n}")),
            (None, since, until) => {
                let until = until.unwrap_or(now);
                let since = since.unwrap_or(until - DEFAULT_LENGTH);
                if since >= until {
                    return Err("since must be before until".into());
                }
                Ok(WindowSpec::Range { since, until })
            }
        }
    }

    /// The dashboard's "run now" choices: `hour`, `day` and `week` (ending `now`), and
    /// `last-N` (N in 1..=[`MAX_LAST_CHOICE`]).
    pub fn from_choice(choice: &str, now: DateTime<Utc>) -> Result<Self, String> {
        let before = |d: Duration| WindowSpec::Range {
            since: now - d,
            until: now,
        };
        match choice {
            "hour" => Ok(before(Duration::hours(1))),
            "day" => Ok(before(Duration::days(1))),
            "week" => Ok(before(Duration::days(7))),
            w => match w.strip_prefix("last-").and_then(|n| n.parse::<i64>().ok()) {
                Some(n) if (1..=MAX_LAST_CHOICE).contains(&n) => Ok(WindowSpec::Last(n)),
                _ => Err(format!("unknown window `{w}`")),
            },
        }
    }

    /// The window of a stored report, read again: with the bounds it stored
    /// (`read_until`, `first_id`), or, for a report stored without them,
    /// `[window_start, window_end]`, its end instant included.
    pub fn of_report(
        window_start: DateTime<Utc>,
        window_end: DateTime<Utc>,
        read_until: Option<DateTime<Utc>>,
        first_id: Option<uuid::Uuid>,
    ) -> Self {
        WindowSpec::Reread(report_bounds(
            window_start,
            window_end,
            read_until,
            first_id,
        ))
    }
}

/// The bounds that read a stored report's window again (see [`WindowSpec::of_report`]).
pub fn report_bounds(
    window_start: DateTime<Utc>,
    window_end: DateTime<Utc>,
    read_until: Option<DateTime<Utc>>,
    first_id: Option<uuid::Uuid>,
) -> ReadBounds {
    ReadBounds {
        since: window_start,
        first_id,
        until: read_until.unwrap_or_else(|| end_after(window_end)),
    }
}

/// The exclusive end of a window whose newest prediction was made at `newest`: one
/// microsecond (the resolution of stored times) later.
pub fn end_after(newest: DateTime<Utc>) -> DateTime<Utc> {
    newest + Duration::microseconds(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn one_default_and_one_set_of_rules() {
        let now = at("2026-11-30T12:00:00Z");
        assert_eq!(
            WindowSpec::from_parts(None, None, None, now),
            Ok(WindowSpec::Range {
                since: at("2026-11-30T11:00:00Z"),
                until: now
            })
        );
        assert_eq!(
            WindowSpec::from_parts(Some(500), None, None, now),
            Ok(WindowSpec::Last(500))
        );
        for bad in [
            (Some(5), Some(now), None),
            (Some(0), None, None),
            (None, Some(now), Some(now)),
        ] {
            assert!(WindowSpec::from_parts(bad.0, bad.1, bad.2, now).is_err());
        }
        assert_eq!(
            WindowSpec::from_choice("day", now),
            Ok(WindowSpec::Range {
                since: at("2026-11-29T12:00:00Z"),
                until: now
            })
        );
        assert_eq!(
            WindowSpec::from_choice("last-1000", now),
            Ok(WindowSpec::Last(1000))
        );
        assert!(WindowSpec::from_choice("last-0", now).is_err());
        assert!(WindowSpec::from_choice("month", now).is_err());
    }

    #[test]
    fn a_report_window_is_read_back_as_stored() {
        let (start, end) = (at("2026-11-30T11:00:00Z"), at("2026-11-30T12:00:00Z"));
        // Stored bounds are read as they are (a range ends before its `until`).
        let id = uuid::Uuid::from_u128(7);
        assert_eq!(
            WindowSpec::of_report(start, end, Some(end), Some(id)),
            WindowSpec::Reread(ReadBounds {
                since: start,
                first_id: Some(id),
                until: end
            })
        );
        // A report stored without them: its end instant included.
        assert_eq!(
            report_bounds(start, end, None, None),
            ReadBounds {
                since: start,
                first_id: None,
                until: at("2026-11-30T12:00:00.000001Z")
            }
        );
    }
}

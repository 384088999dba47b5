//! Drift windows read from column blocks.
//!
//! A drift report reads every feature of every prediction in its window: 100,000 rows are
//! 42 million values. Read as `double precision[]`, PostgreSQL converts them one by one
//! (about 3 s on a 2-core machine). So each closed minute of predictions is also kept as
//! column blocks (`prediction_columns`): per model version and minute, parts of up to
//! [`PART_ROWS`] rows, each part one row per group of [`GROUP_FEATURES`] features holding
//! a `bytea` of the group's columns (big-endian float8s, or a dictionary and a byte per row
//! for columns of at most 256 distinct values: flags, categories, small counts), and in
//! group 0 one of probabilities. PostgreSQL sends bytea as it is.
//!
//! A report reads a window a group at a time ([`stream_window`]) and tests each group while
//! the next one arrives. A dictionary's column comes out as counts (value, how many), not a
//! value per row: the analysis needs each feature's values, never a row's.
//!
//! A block is used only while it is complete: it records how many predictions (of every
//! model version) the traffic summaries counted in its minute when it was built, and a
//! reader compares that with the summaries' count now. A minute that changed since (late
//! rows: a backup replayed, history back-filled) is read from `predictions` and rebuilt.
//! Minutes still open, a window's edge minutes that hold predictions outside the window,
//! and minutes older than [`KEEP_DAYS`] are read from `predictions`.

use std::collections::HashMap;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration, DurationRound, Utc};
use futures_util::TryStreamExt;
use sqlx::{PgConnection, PgPool, Row};

use crate::codec::{decode_column, encode_column, get_f64s, put_f64s};
use crate::drift::analysis::{Column, Window};
use crate::store::pgarray::Float8Array;

/// Most rows in one part of a minute's block (14 MB of features at 419 features).
pub const PART_ROWS: usize = 4096;
/// Features in one group: each part is stored as one row per group, and a report tests a
/// group of features while the next one is read. Stored blocks depend on it: a change
/// comes with a migration that empties `prediction_columns`.
pub const GROUP_FEATURES: usize = 48;
/// Blocks of minutes older than this are dropped, and not built.
pub const KEEP_DAYS: i64 = 7;
/// A minute gets a block once it ended this long ago (commits of its last rows are done).
pub const SETTLE_SECONDS: i64 = 60;
/// First key of the advisory lock a builder holds on a minute (the second is the minute).
const LOCK_NAMESPACE: i32 = 0x5357_434c;

fn minute() -> Duration {
    Duration::minutes(1)
}

fn floor_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(minute()).unwrap_or(t)
}

/// `[from, to)` cut to the minutes that may have blocks (settled, kept).
fn clamp_span(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let from = from.max(floor_minute(now - Duration::days(KEEP_DAYS)));
    let to = to.min(floor_minute(now - Duration::seconds(SETTLE_SECONDS)));
    (from, to.max(from))
}

/// The minutes whose blocks a window can use: every settled minute all of whose
/// predictions of `model_version` lie in the window. Minutes inside the window whole
/// always qualify; the minute a window starts or ends in qualifies too
/// when none of its predictions falls outside the window, wherever in the minute the
/// window's bound is (a window of the newest `n` ends just after its newest prediction,
/// and usually starts at the first prediction of a minute).
async fn usable_span(
    conn: &mut PgConnection,
    model_version: i64,
    from: WindowStart,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let first_minute = floor_minute(from.at);
    let start_cut = from.at > first_minute || from.id.is_some();
    let last_minute = floor_minute(until);
    let end_cut = until > last_minute;
    let (inner_from, inner_to) = (
        if start_cut {
            first_minute + minute()
        } else {
            first_minute
        },
        last_minute,
    );
    let (settled_from, settled_to) = clamp_span(first_minute, last_minute + minute(), now);
    let mut from_minute = inner_from;
    if start_cut && first_minute >= settled_from && first_minute < settled_to {
        // Rows of that minute before the window's first: (created_at, id) < (at, id).
        let outside: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM predictions WHERE model_version = $1 \
               AND created_at >= $2 AND (created_at, id) < ($3, $4))",
        )
        .bind(model_version)
        .bind(first_minute)
        .bind(from.at)
        .bind(from.id.unwrap_or(uuid::Uuid::nil()))
        .fetch_one(&mut *conn)
        .await
        .context("looking for predictions before the window in its first minute")?;
        if !outside {
            from_minute = first_minute;
        }
    }
    let mut to_minute = inner_to;
    if end_cut && last_minute >= settled_from && last_minute < settled_to {
        let outside: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM predictions WHERE model_version = $1 \
               AND created_at >= $2 AND created_at < $3)",
        )
        .bind(model_version)
        .bind(until)
        .bind(last_minute + minute())
        .fetch_one(&mut *conn)
        .await
        .context("looking for predictions after the window in its last minute")?;
        if !outside {
            to_minute = last_minute + minute();
        }
    }
    Ok(clamp_span(from_minute, to_minute, now))
}

/// Predictions per minute in [from, to) (all model versions), from the traffic summaries.
async fn summary_counts(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<HashMap<DateTime<Utc>, i64>> {
    let rows: Vec<(DateTime<Utc>, i64)> = sqlx::query_as(
        "SELECT bucket, (sum(n_approved) + sum(n_refused))::BIGINT FROM prediction_minutes \
          WHERE bucket >= $1 AND bucket < $2 GROUP BY bucket",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await
    .context("counting predictions per minute")?;
    Ok(rows.into_iter().collect())
}

/// The minutes in [from, to) with a block of `model_version` that is still complete,
/// ascending.
async fn complete_blocks(
    conn: &mut PgConnection,
    model_version: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    counts: &HashMap<DateTime<Utc>, i64>,
) -> Result<Vec<DateTime<Utc>>> {
    let rows: Vec<(DateTime<Utc>, i64)> = sqlx::query_as(
        "SELECT minute, n_minute_rows FROM prediction_columns \
          WHERE model_version = $1 AND minute >= $2 AND minute < $3 AND part = 0 \
            AND feature_group = 0 \
          ORDER BY minute",
    )
    .bind(model_version)
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await
    .context("reading the column blocks")?;
    Ok(rows
        .into_iter()
        .filter(|(m, n)| counts.get(m) == Some(n))
        .map(|(m, _)| m)
        .collect())
}

/// Where a window starts: at a time, or, in the order of the paging index, at one
/// prediction (the rows created at that same time with a smaller id are left out).
#[derive(Debug, Clone, Copy)]
pub struct WindowStart {
    pub at: DateTime<Utc>,
    pub id: Option<uuid::Uuid>,
}

/// Rows of `model_version` created in any of the ranges [lo, hi) and not before `from`,
/// into `window`; returns which of them were refused.
async fn read_rows(
    conn: &mut PgConnection,
    model_version: i64,
    ranges: &[(DateTime<Utc>, DateTime<Utc>)],
    from: WindowStart,
    window: &mut Window,
) -> Result<Vec<bool>> {
    let mut refused = Vec::new();
    if ranges.is_empty() {
        return Ok(refused);
    }
    let (lo, hi): (Vec<_>, Vec<_>) = ranges.iter().copied().unzip();
    let mut rows = sqlx::query(
        "SELECT p.features, p.probability, p.decision \
           FROM unnest($2::timestamptz[], $3::timestamptz[]) AS r (lo, hi) \
           JOIN predictions p ON p.created_at >= r.lo AND p.created_at < r.hi \
          WHERE p.model_version = $1 \
            AND ($5::uuid IS NULL OR (p.created_at, p.id) >= ($4, $5))",
    )
    .bind(model_version)
    .bind(&lo)
    .bind(&hi)
    .bind(from.at)
    .bind(from.id)
    .fetch(&mut *conn);
    while let Some(r) = rows.try_next().await? {
        refused.push(push_row(window, &r)?);
    }
    Ok(refused)
}

/// Adds a stored prediction's row to `window`; returns whether it was refused.
fn push_row(window: &mut Window, r: &sqlx::postgres::PgRow) -> Result<bool> {
    let features: Float8Array = r.get("features");
    if features.0.len() != window.columns.len() {
        bail!(
            "a stored prediction has {} features, the model {}",
            features.0.len(),
            window.columns.len()
        );
    }
    let refused = r.get::<&str, _>("decision") == "REFUSED";
    window.push(features.0, r.get("probability"), refused);
    Ok(refused)
}

/// The features of each group of a model with `n_features` features, in model order. There
/// is always a group 0: it holds the probabilities.
pub fn feature_groups(n_features: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let n_groups = n_features.div_ceil(GROUP_FEATURES).max(1);
    (0..n_groups).map(move |g| g * GROUP_FEATURES..((g + 1) * GROUP_FEATURES).min(n_features))
}

/// Builds (or rebuilds) the blocks of the given minutes of `model_version`; returns the
/// rows written.
pub async fn build(pool: &PgPool, model_version: i64, minutes: &[DateTime<Utc>]) -> Result<usize> {
    let n_features: i32 = sqlx::query_scalar(
        "SELECT coalesce(array_length(feature_names, 1), 0) FROM model_versions WHERE id = $1",
    )
    .bind(model_version)
    .fetch_one(pool)
    .await
    .context("reading the model's feature count")?;
    let n_features = n_features as usize;
    let mut written = 0;
    for &m in minutes {
        let mut tx = pool.begin().await?;
        // The count and the rows from one snapshot; one builder per minute at a time.
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            .execute(&mut *tx)
            .await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind(LOCK_NAMESPACE)
            .bind((m.timestamp() / 60) as i32)
            .execute(&mut *tx)
            .await?;
        let counts = summary_counts(&mut tx, m, m + minute()).await?;
        let Some(&n_minute_rows) = counts.get(&m) else {
            continue;
        };
        let mut window = Window::new(n_features);
        let whole = WindowStart { at: m, id: None };
        let refused = read_rows(
            &mut tx,
            model_version,
            &[(m, m + minute())],
            whole,
            &mut window,
        )
        .await?;
        sqlx::query("DELETE FROM prediction_columns WHERE model_version = $1 AND minute = $2")
            .bind(model_version)
            .bind(m)
            .execute(&mut *tx)
            .await?;
        for (part, start) in (0..window.n_rows.max(1)).step_by(PART_ROWS).enumerate() {
            let end = (start + PART_ROWS).min(window.n_rows);
            let mut probabilities = Vec::new();
            put_f64s(&mut probabilities, &window.probabilities[start..end]);
            let n_refused = refused[start..end].iter().filter(|r| **r).count();
            for (group, columns) in (0..).zip(feature_groups(n_features)) {
                let columns = &window.columns[columns];
                let mut features = Vec::with_capacity((end - start) * columns.len() * 8);
                for column in columns {
                    encode_column(&mut features, &column.values[start..end]);
                }
                let first = group == 0i32;
                sqlx::query(
                    "INSERT INTO prediction_columns (model_version, minute, part, feature_group, \
                       n_rows, n_minute_rows, n_refused, probabilities, features) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(model_version)
                .bind(m)
                .bind(part as i32)
                .bind(group)
                .bind((end - start) as i32)
                .bind(n_minute_rows)
                .bind(if first { n_refused as i32 } else { 0 })
                .bind(first.then_some(&probabilities))
                .bind(features)
                .execute(&mut *tx)
                .await
                .context("writing a column block")?;
            }
        }
        tx.commit().await?;
        written += window.n_rows;
    }
    Ok(written)
}

/// Builds the missing or outdated blocks of `model_version` for the minutes a window
/// from `from` to `until` (excluded) can read from blocks ([`usable_span`]); returns the
/// rows written.
pub async fn ensure(
    pool: &PgPool,
    model_version: i64,
    from: WindowStart,
    until: DateTime<Utc>,
) -> Result<usize> {
    let mut conn = pool.acquire().await?;
    let (from, to) = usable_span(&mut conn, model_version, from, until, Utc::now()).await?;
    if from >= to {
        return Ok(0);
    }
    let counts = summary_counts(&mut conn, from, to).await?;
    let complete = complete_blocks(&mut conn, model_version, from, to, &counts).await?;
    drop(conn);
    let mut missing: Vec<DateTime<Utc>> = counts
        .keys()
        .copied()
        .filter(|m| complete.binary_search(m).is_err())
        .collect();
    missing.sort_unstable();
    build(pool, model_version, &missing).await
}

/// Some features of a window: the values of features `first..first + columns.len()`.
#[derive(Debug)]
pub struct FeatureGroup {
    pub first: usize,
    pub columns: Vec<Column>,
}

/// What a window holds besides its features.
#[derive(Debug, Default)]
pub struct WindowRows {
    pub n_rows: usize,
    pub probabilities: Vec<f64>,
    pub n_refused: usize,
}

/// The predictions of `model_version` created from `from` to `until` (excluded), from the
/// complete blocks and, for every other minute, from `predictions`, all read in one
/// snapshot. The features go to `groups` a group at a time, in model order, so that they
/// can be analysed while the next group is read; column buffers that come back on `spare`
/// are used again.
pub async fn stream_window(
    pool: &PgPool,
    model_version: i64,
    n_features: usize,
    from: WindowStart,
    until: DateTime<Utc>,
    groups: tokio::sync::mpsc::Sender<FeatureGroup>,
    spare: &mut std::sync::mpsc::Receiver<Vec<Column>>,
) -> Result<WindowRows> {
    let since = from.at;
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    let (lo, hi) = usable_span(&mut tx, model_version, from, until, Utc::now()).await?;
    let (complete, block_rows) = if lo < hi {
        let counts = summary_counts(&mut tx, lo, hi).await?;
        let complete = complete_blocks(&mut tx, model_version, lo, hi, &counts).await?;
        // The blocks' minutes' counts bound their rows.
        let rows: i64 = complete.iter().filter_map(|m| counts.get(m)).sum();
        (complete, rows as usize)
    } else {
        (Vec::new(), 0)
    };
    // Everything in [since, until) outside the complete minutes is read row by row.
    let mut ranges = Vec::new();
    let mut at = since;
    for &m in &complete {
        if at < m {
            ranges.push((at, m));
        }
        at = m + minute();
    }
    if at < until {
        ranges.push((at, until));
    }
    let mut rest = Window::new(n_features);
    read_rows(&mut tx, model_version, &ranges, from, &mut rest).await?;
    let mut rows = WindowRows {
        n_rows: rest.n_rows,
        probabilities: std::mem::take(&mut rest.probabilities),
        n_refused: rest.n_refused,
    };
    rows.probabilities.reserve(block_rows);
    let mut in_blocks = None;
    for (group, features) in (0..).zip(feature_groups(n_features)) {
        let mut columns = spare.try_recv().unwrap_or_default();
        columns.resize_with(features.len(), Column::default);
        columns.truncate(features.len());
        for (column, rest) in columns.iter_mut().zip(&mut rest.columns[features.clone()]) {
            column.clear();
            column.values.reserve(rest.values.len() + block_rows);
            column.values.append(&mut rest.values);
        }
        let totals = (group == 0).then_some(&mut rows);
        let n = read_group(
            &mut tx,
            model_version,
            &complete,
            group,
            &mut columns,
            totals,
        )
        .await?;
        // Every group holds the same rows.
        if *in_blocks.get_or_insert(n) != n {
            bail!("the column blocks of model version {model_version} disagree on their rows");
        }
        let group = FeatureGroup {
            first: features.start,
            columns,
        };
        if groups.send(group).await.is_err() {
            bail!("the drift analysis stopped before the window was read");
        }
    }
    tx.commit().await?;
    Ok(rows)
}

/// The whole window of [`stream_window`] at once.
pub async fn read_window(
    pool: &PgPool,
    model_version: i64,
    n_features: usize,
    from: WindowStart,
    until: DateTime<Utc>,
) -> Result<Window> {
    let (send, mut receive) = tokio::sync::mpsc::channel::<FeatureGroup>(1);
    let (_none, mut spare) = std::sync::mpsc::channel();
    let mut columns = Vec::with_capacity(n_features);
    let collect = async {
        while let Some(group) = receive.recv().await {
            columns.extend(group.columns);
        }
    };
    let read = stream_window(
        pool,
        model_version,
        n_features,
        from,
        until,
        send,
        &mut spare,
    );
    let (rows, ()) = tokio::join!(read, collect);
    let rows = rows?;
    Ok(Window {
        columns,
        n_rows: rows.n_rows,
        probabilities: rows.probabilities,
        n_refused: rows.n_refused,
    })
}

/// One group of features of `model_version`'s blocks for `minutes`, appended to
/// `columns`; the probabilities and refusals go to `totals` (when it is group 0). Returns
/// the rows read.
async fn read_group(
    conn: &mut PgConnection,
    model_version: i64,
    minutes: &[DateTime<Utc>],
    group: i32,
    columns: &mut [Column],
    mut totals: Option<&mut WindowRows>,
) -> Result<usize> {
    if minutes.is_empty() {
        return Ok(0);
    }
    let mut parts = sqlx::query(
        "SELECT n_rows, n_refused, probabilities, features FROM prediction_columns \
          WHERE model_version = $1 AND feature_group = $2 AND minute = ANY($3)",
    )
    .bind(model_version)
    .bind(group)
    .bind(minutes)
    .fetch(&mut *conn);
    let mut read = 0;
    let n_features = columns.len();
    while let Some(r) = parts.try_next().await? {
        let n_rows = r.get::<i32, _>("n_rows") as usize;
        let malformed = || {
            anyhow::anyhow!(
                "a malformed column block ({n_rows} rows of {n_features} features in group {group})"
            )
        };
        let mut rest: &[u8] = r.get("features");
        for column in columns.iter_mut() {
            rest = decode_column(rest, n_rows, column).ok_or_else(malformed)?;
        }
        if !rest.is_empty() {
            return Err(malformed());
        }
        if let Some(totals) = totals.as_deref_mut() {
            match r.get::<Option<&[u8]>, _>("probabilities") {
                Some(p) if p.len() == n_rows * 8 => get_f64s(p, &mut totals.probabilities),
                _ => return Err(malformed()),
            }
            totals.n_refused += r.get::<i32, _>("n_refused") as usize;
            totals.n_rows += n_rows;
        }
        read += n_rows;
    }
    Ok(read)
}

/// Drops the blocks older than [`KEEP_DAYS`]; returns how many parts.
pub async fn prune(pool: &PgPool) -> Result<u64> {
    let done = sqlx::query("DELETE FROM prediction_columns WHERE minute < $1")
        .bind(Utc::now() - Duration::days(KEEP_DAYS))
        .execute(pool)
        .await
        .context("dropping old column blocks")?;
    Ok(done.rows_affected())
}

/// Keeps the active model's blocks of the last `horizon` built (every minute, for as long
/// as the server runs), so that scheduled and on-demand drift reports find them ready.
pub async fn keep_building(pool: PgPool, horizon: Duration) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let round = async {
            let version: Option<i64> =
                sqlx::query_scalar("SELECT id FROM model_versions WHERE active")
                    .fetch_optional(&pool)
                    .await?;
            let built = match version {
                Some(v) => {
                    let from = WindowStart {
                        at: Utc::now() - horizon,
                        id: None,
                    };
                    ensure(&pool, v, from, Utc::now()).await?
                }
                None => 0,
            };
            let pruned = prune(&pool).await?;
            anyhow::Ok((built, pruned))
        };
        match round.await {
            Ok((0, 0)) => {}
            Ok((built, pruned)) => tracing::debug!(built, pruned, "column blocks updated"),
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "building column blocks"),
        }
    }
}

-- Inserts add to the per-minute summaries only; the hourly summaries are built when the
-- writers' minute rows are folded (every minute, `sw_rollup_compact`). This halves what
-- every commit of predictions writes to the summaries.
--
-- From here on:
-- - prediction_minutes, slot 0: folded minutes; slot <> 0: rows added since the last fold
--   (the API's committers use slots 1, 2, ...; every other insert slot -1).
-- - prediction_hours, slot 0 only: the folded minutes of each hour.
-- So the predictions of an hour are its prediction_hours row plus its minute rows of
-- slot <> 0, and those of a minute are all its minute rows.

-- Fold everything of the previous scheme first: then no minute row waits to be folded.
SELECT sw_rollup_compact('infinity');

CREATE OR REPLACE FUNCTION sw_rollup_add(
    created TIMESTAMPTZ[], decisions TEXT[],
    probabilities DOUBLE PRECISION[], latencies DOUBLE PRECISION[]
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    writer_slot INTEGER := coalesce(nullif(current_setting('scorewatch.writer_slot', true), '')::INTEGER, -1);
BEGIN
    IF writer_slot = 0 THEN
        writer_slot := -1;
    END IF;
    INSERT INTO prediction_minutes AS m
    SELECT g.bucket, writer_slot, g.n_approved, g.n_refused, g.latency_sum,
           sw_histogram(g.lat, 160), sw_histogram(g.app, 50), sw_histogram(g.ref, 50)
      FROM (SELECT date_trunc('minute', r.created_at) AS bucket,
                   count(*) FILTER (WHERE r.decision = 'APPROVED') AS n_approved,
                   count(*) FILTER (WHERE r.decision = 'REFUSED') AS n_refused,
                   sum(r.latency) AS latency_sum,
                   array_agg(sw_latency_bucket(r.latency)) AS lat,
                   array_agg(sw_score_bin(r.probability)) FILTER (WHERE r.decision = 'APPROVED') AS app,
                   array_agg(sw_score_bin(r.probability)) FILTER (WHERE r.decision = 'REFUSED') AS ref
              FROM unnest(created, decisions, probabilities, latencies)
                   AS r (created_at, decision, probability, latency)
             GROUP BY 1) AS g
    ON CONFLICT (bucket, slot) DO UPDATE SET
        n_approved = m.n_approved + excluded.n_approved,
        n_refused = m.n_refused + excluded.n_refused,
        latency_sum_ms = m.latency_sum_ms + excluded.latency_sum_ms,
        latency_counts = sw_add_counts(m.latency_counts, excluded.latency_counts),
        score_approved = sw_add_counts(m.score_approved, excluded.score_approved),
        score_refused = sw_add_counts(m.score_refused, excluded.score_refused);
END
$$;

-- Folds the minute rows of slot <> 0 that ended before `upto` into their minute's slot 0
-- row and their hour's row; returns how many rows it folded.
CREATE OR REPLACE FUNCTION sw_rollup_compact(upto TIMESTAMPTZ) RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    n BIGINT;
BEGIN
    WITH moved AS (
        DELETE FROM prediction_minutes
         WHERE slot <> 0 AND bucket < date_trunc('minute', upto)
        RETURNING *
    ), minutes AS (
        INSERT INTO prediction_minutes AS m
        SELECT bucket, 0, sum(n_approved), sum(n_refused), sum(latency_sum_ms),
               sw_sum_counts(latency_counts), sw_sum_counts(score_approved), sw_sum_counts(score_refused)
          FROM moved GROUP BY bucket
        ON CONFLICT (bucket, slot) DO UPDATE SET
            n_approved = m.n_approved + excluded.n_approved,
            n_refused = m.n_refused + excluded.n_refused,
            latency_sum_ms = m.latency_sum_ms + excluded.latency_sum_ms,
            latency_counts = sw_add_counts(m.latency_counts, excluded.latency_counts),
            score_approved = sw_add_counts(m.score_approved, excluded.score_approved),
            score_refused = sw_add_counts(m.score_refused, excluded.score_refused)
        RETURNING 1
    ), hours AS (
        INSERT INTO prediction_hours AS h
        SELECT date_trunc('hour', bucket), 0, sum(n_approved), sum(n_refused), sum(latency_sum_ms),
               sw_sum_counts(latency_counts), sw_sum_counts(score_approved), sw_sum_counts(score_refused)
          FROM moved GROUP BY 1
        ON CONFLICT (bucket, slot) DO UPDATE SET
            n_approved = h.n_approved + excluded.n_approved,
            n_refused = h.n_refused + excluded.n_refused,
            latency_sum_ms = h.latency_sum_ms + excluded.latency_sum_ms,
            latency_counts = sw_add_counts(h.latency_counts, excluded.latency_counts),
            score_approved = sw_add_counts(h.score_approved, excluded.score_approved),
            score_refused = sw_add_counts(h.score_refused, excluded.score_refused)
        RETURNING 1
    )
    SELECT count(*) INTO n FROM moved;
    RETURN n;
END
$$;

-- The predictions of each hour, whether folded or not (for SQL users and Grafana).
CREATE VIEW prediction_hours_all AS
SELECT bucket, sum(n_approved)::BIGINT AS n_approved, sum(n_refused)::BIGINT AS n_refused,
       sum(latency_sum_ms) AS latency_sum_ms, sw_sum_counts(latency_counts) AS latency_counts,
       sw_sum_counts(score_approved) AS score_approved, sw_sum_counts(score_refused) AS score_refused
  FROM (SELECT bucket, n_approved, n_refused, latency_sum_ms, latency_counts, score_approved, score_refused
          FROM prediction_hours
        UNION ALL
        SELECT date_trunc('hour', bucket), n_approved, n_refused, latency_sum_ms, latency_counts,
               score_approved, score_refused
          FROM prediction_minutes WHERE slot <> 0) AS u
 GROUP BY bucket;

-- The rows waiting to be folded, found without reading the folded ones.
CREATE INDEX prediction_minutes_unfolded ON prediction_minutes (bucket) WHERE slot <> 0;

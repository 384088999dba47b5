-- Per-minute and per-hour summaries of the stored predictions (all sources together):
-- volume by decision, latency and score histograms. Every insert of predictions adds to
-- them in the same transaction (scorewatch-core `traffic::add_to_summaries`, used by the
-- API's writer, backup replay and backfills), so the dashboard reads a range of a month
-- from a few thousand summary rows instead of millions of predictions. `sw_rollup_add`
-- does the same in SQL, for rows inserted by hand.
--
-- Latency buckets: 160 buckets of 1/20 decade from 1 microsecond (0.001 ms) to 100 s;
-- bucket k holds [0.001 * 10^(k/20), 0.001 * 10^((k+1)/20)) ms, with everything below in
-- bucket 0 and everything above in bucket 159. Score bins: 50 bins of width 0.02, the last
-- one closed. `slot` keeps concurrent writers on separate rows so that two transactions
-- never wait for each other's summary row: the API's committers use slots 1, 2, ...;
-- every other insert uses slot 0 (`sw_rollup_add` reads it from `scorewatch.writer_slot`).

CREATE TABLE prediction_minutes (
    bucket          TIMESTAMPTZ NOT NULL,
    slot            INTEGER NOT NULL,
    n_approved      BIGINT NOT NULL,
    n_refused       BIGINT NOT NULL,
    latency_sum_ms  DOUBLE PRECISION NOT NULL,
    latency_counts  INTEGER[] NOT NULL,
    score_approved  INTEGER[] NOT NULL,
    score_refused   INTEGER[] NOT NULL,
    PRIMARY KEY (bucket, slot)
);

CREATE TABLE prediction_hours (LIKE prediction_minutes INCLUDING ALL);

CREATE FUNCTION sw_latency_bucket(ms DOUBLE PRECISION) RETURNS INTEGER
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN ms IS NULL OR ms <= 0.001 THEN 0
                ELSE least(159, greatest(0, floor(20 * log(ms / 0.001))::INTEGER)) END
$$;

CREATE FUNCTION sw_score_bin(p DOUBLE PRECISION) RETURNS INTEGER
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT least(49, greatest(0, floor(p * 50)::INTEGER))
$$;

-- Counts of each index 0..n-1 in `idx` (NULL: all zero).
CREATE FUNCTION sw_histogram(idx INTEGER[], n INTEGER) RETURNS INTEGER[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg(coalesce(c.k, 0) ORDER BY s.i)
      FROM generate_series(0, n - 1) AS s (i)
      LEFT JOIN (SELECT x, count(*)::INTEGER AS k FROM unnest(idx) AS u (x) GROUP BY x) AS c
        ON c.x = s.i
$$;

-- Element-wise sum of two count arrays of the same length.
CREATE FUNCTION sw_add_counts(a INTEGER[], b INTEGER[]) RETURNS INTEGER[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY i)
      FROM unnest(a, b) WITH ORDINALITY AS t (x, y, i)
$$;

-- Adds rows (given column-wise) to both summary tables.
CREATE FUNCTION sw_rollup_add(
    created TIMESTAMPTZ[], decisions TEXT[],
    probabilities DOUBLE PRECISION[], latencies DOUBLE PRECISION[]
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    writer_slot INTEGER := coalesce(nullif(current_setting('scorewatch.writer_slot', true), '')::INTEGER, 0);
BEGIN
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

    INSERT INTO prediction_hours AS h
    SELECT date_trunc('hour', m.bucket), writer_slot, sum(m.n_approved), sum(m.n_refused),
           sum(m.latency_sum_ms), sw_histogram(array_agg(m.lat), 160),
           sw_histogram(array_agg(m.app), 50), sw_histogram(array_agg(m.ref), 50)
      FROM (SELECT r.created_at AS bucket,
                   (r.decision = 'APPROVED')::INTEGER AS n_approved,
                   (r.decision = 'REFUSED')::INTEGER AS n_refused,
                   r.latency AS latency_sum_ms,
                   sw_latency_bucket(r.latency) AS lat,
                   CASE WHEN r.decision = 'APPROVED' THEN sw_score_bin(r.probability) END AS app,
                   CASE WHEN r.decision = 'REFUSED' THEN sw_score_bin(r.probability) END AS ref
              FROM unnest(created, decisions, probabilities, latencies)
                   AS r (created_at, decision, probability, latency)) AS m
     GROUP BY 1
    ON CONFLICT (bucket, slot) DO UPDATE SET
        n_approved = h.n_approved + excluded.n_approved,
        n_refused = h.n_refused + excluded.n_refused,
        latency_sum_ms = h.latency_sum_ms + excluded.latency_sum_ms,
        latency_counts = sw_add_counts(h.latency_counts, excluded.latency_counts),
        score_approved = sw_add_counts(h.score_approved, excluded.score_approved),
        score_refused = sw_add_counts(h.score_refused, excluded.score_refused);
END
$$;

-- Element-wise sum of count arrays, as an aggregate.
CREATE AGGREGATE sw_sum_counts(INTEGER[]) (
    SFUNC = sw_add_counts,
    STYPE = INTEGER[],
    PARALLEL = SAFE
);

-- Folds the writers' rows of buckets that ended before `upto` into slot 0, so that a
-- range reads one row per minute or hour. The server runs it every minute.
CREATE FUNCTION sw_rollup_compact(upto TIMESTAMPTZ) RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    folded BIGINT := 0;
    n BIGINT;
BEGIN
    WITH moved AS (
        DELETE FROM prediction_minutes
         WHERE slot <> 0 AND bucket < date_trunc('minute', upto)
        RETURNING *
    ), merged AS (
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
    )
    SELECT count(*) INTO n FROM moved;
    folded := folded + n;

    WITH moved AS (
        DELETE FROM prediction_hours
         WHERE slot <> 0 AND bucket < date_trunc('hour', upto)
        RETURNING *
    ), merged AS (
        INSERT INTO prediction_hours AS h
        SELECT bucket, 0, sum(n_approved), sum(n_refused), sum(latency_sum_ms),
               sw_sum_counts(latency_counts), sw_sum_counts(score_approved), sw_sum_counts(score_refused)
          FROM moved GROUP BY bucket
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
    RETURN folded + n;
END
$$;

-- Predictions stored before this migration.
SELECT sw_rollup_add(array_agg(created_at), array_agg(decision),
                     array_agg(probability), array_agg(inference_time_ms))
  FROM predictions
HAVING count(*) > 0;

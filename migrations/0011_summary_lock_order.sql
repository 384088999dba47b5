-- Summary rows are locked in one order by everyone, so that late rows and the fold never
-- deadlock (migration 0009's upserts took them in hash-aggregate order):
-- - the fold (`sw_rollup_compact`) first takes a SHARE ROW EXCLUSIVE lock on
--   prediction_minutes: it waits for the transactions that are adding to minute rows, and
--   holds new ones back for the few milliseconds it takes, so it never holds a row that an
--   insert waits for while waiting for one that the insert holds; two folds (several
--   servers) take turns on the same lock;
-- - every upsert of minute or hour rows adds them in ascending bucket order, so two
--   inserts of rows into the same closed minutes (replays, backfills, `sw_rollup_add`)
--   wait for each other instead of deadlocking.
-- What remains (a transaction of several statements whose minutes interleave) is retried
-- by the application as a whole.

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
     ORDER BY g.bucket
    ON CONFLICT (bucket, slot) DO UPDATE SET
        n_approved = m.n_approved + excluded.n_approved,
        n_refused = m.n_refused + excluded.n_refused,
        latency_sum_ms = m.latency_sum_ms + excluded.latency_sum_ms,
        latency_counts = sw_add_counts(m.latency_counts, excluded.latency_counts),
        score_approved = sw_add_counts(m.score_approved, excluded.score_approved),
        score_refused = sw_add_counts(m.score_refused, excluded.score_refused);
END
$$;

CREATE OR REPLACE FUNCTION sw_rollup_compact(upto TIMESTAMPTZ) RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    n BIGINT;
BEGIN
    LOCK TABLE prediction_minutes IN SHARE ROW EXCLUSIVE MODE;
    WITH moved AS (
        DELETE FROM prediction_minutes
         WHERE slot <> 0 AND bucket < date_trunc('minute', upto)
        RETURNING *
    ), minutes AS (
        INSERT INTO prediction_minutes AS m
        SELECT bucket, 0, sum(n_approved), sum(n_refused), sum(latency_sum_ms),
               sw_sum_counts(latency_counts), sw_sum_counts(score_approved), sw_sum_counts(score_refused)
          FROM moved GROUP BY bucket ORDER BY bucket
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
          FROM moved GROUP BY 1 ORDER BY 1
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


-- Drift reports read every feature of every prediction in a window. PostgreSQL sends a
-- double precision[] by converting each value (about 65 ns each: 3 s for 100,000 rows of
-- 419 features), while a bytea is sent as it is. So what drift reads in bulk is also kept
-- as bytea of big-endian float8 values (the bytes of float8send, one value after another).

CREATE FUNCTION sw_float8_bytes(v DOUBLE PRECISION[]) RETURNS BYTEA
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(string_agg(float8send(x), ''::BYTEA ORDER BY i), ''::BYTEA)
      FROM unnest(v) WITH ORDINALITY AS u (x, i)
$$;

-- The sorted reference sample of each feature (up to 20,000 values), in the form of one
-- column of a block (below): a 0 byte and the values, or a dictionary.
ALTER TABLE training_reference ALTER COLUMN sorted_sample DROP DEFAULT;
ALTER TABLE training_reference
    ALTER COLUMN sorted_sample TYPE BYTEA USING '\x00'::BYTEA || sw_float8_bytes(sorted_sample);
ALTER TABLE training_reference ALTER COLUMN sorted_sample SET DEFAULT '\x00'::BYTEA;
ALTER TABLE training_reference ALTER COLUMN sorted_sample SET STORAGE EXTERNAL;

-- Column blocks: the predictions of one model version and one closed minute, in parts of
-- up to 4,096 rows. `features` holds the feature columns one after the other (model
-- order, NaN = missing), each either a 0 byte and its n_rows values, or (at most 256
-- distinct values) a 1 byte, the number of distinct values minus one, those values and
-- one byte per row naming one of them; `probabilities` holds n_rows values.
-- `n_minute_rows` is the number of predictions of every version the traffic summaries
-- counted in that minute when the block was built: the block is used only while the
-- summaries still count as many. Built by the server every minute for recent minutes and
-- by drift reports for the minutes they read; dropped after 7 days. A cache of what
-- `predictions` holds, so not written to the WAL (after a crash it is empty and rebuilt).
CREATE UNLOGGED TABLE prediction_columns (
    model_version  BIGINT NOT NULL REFERENCES model_versions (id) ON DELETE CASCADE,
    minute         TIMESTAMPTZ NOT NULL,
    part           INTEGER NOT NULL,
    n_rows         INTEGER NOT NULL,
    n_minute_rows  BIGINT NOT NULL,
    n_refused      INTEGER NOT NULL,
    probabilities  BYTEA NOT NULL,
    features       BYTEA NOT NULL,
    built_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (model_version, minute, part)
);
-- Floats hardly compress: store them out of line as they are.
ALTER TABLE prediction_columns ALTER COLUMN probabilities SET STORAGE EXTERNAL;
ALTER TABLE prediction_columns ALTER COLUMN features SET STORAGE EXTERNAL;

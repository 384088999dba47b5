-- `outcomes` is written by one statement only (`store::record_outcomes`), which copies the
-- prediction's id, time, model version, score and decision from the prediction it has read
-- in the same transaction; no code path deletes a prediction or a model version. The two
-- foreign keys guarded nothing those facts do not, and their per-row checks (a lookup and
-- a row lock in `predictions` and `model_versions` for every new outcome) took about 100 ms
-- of a 10,000-outcome batch, a third of its time. A prediction deleted by hand now leaves
-- its outcome behind; the outcome keeps the copied score and decision it is reported with.
ALTER TABLE outcomes
    DROP CONSTRAINT outcomes_prediction_id_fkey,
    DROP CONSTRAINT outcomes_model_version_fkey;

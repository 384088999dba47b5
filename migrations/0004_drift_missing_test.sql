-- The p-value of each feature's missing-rate test (before correction), next to the
-- distribution tests'.
ALTER TABLE drift_feature_results ADD COLUMN missing_p_value DOUBLE PRECISION;

-- Column blocks split by groups of features: a drift report analyses one group of
-- features while the next is on its way. Each part of a minute now has one row per group
-- (features group * 48 to group * 48 + 47, in model order); the group-0 row also holds
-- the part's probabilities and refusals, the other rows have no probabilities and
-- n_refused 0. The blocks are a cache of `predictions`: they are emptied here and built
-- again in the new form.
TRUNCATE prediction_columns;
ALTER TABLE prediction_columns ADD COLUMN feature_group INTEGER NOT NULL;
ALTER TABLE prediction_columns ALTER COLUMN probabilities DROP NOT NULL;
ALTER TABLE prediction_columns DROP CONSTRAINT prediction_columns_pkey;
ALTER TABLE prediction_columns ADD PRIMARY KEY (model_version, minute, part, feature_group);

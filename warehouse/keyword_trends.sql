-- Trend statistics of keyword_trends for the snapshot just loaded and for the $window snapshots
-- after it (their trailing windows contain it), so the result does not depend on load order.
-- Runs in the load transaction after load_snapshot.sql. Parameters: $snapshot_id, $window,
-- $prior (strength of the Dirichlet prior), $min_support (papers with the keyphrase in the
-- snapshot and its window together).

CREATE OR REPLACE TEMP TABLE trend_targets AS
SELECT q.snapshot_id, q.seq, q.observed_on, q.n_papers
FROM snapshot_sequence q,
     (SELECT seq FROM snapshot_sequence WHERE snapshot_id = $snapshot_id) k
WHERE q.seq BETWEEN k.seq AND k.seq + $window;

-- Counts of each target snapshot (side a) and of its trailing window (side b).
CREATE OR REPLACE TEMP TABLE trend_counts AS
-- The display form of a keyphrase the target lacks is the latest of its window's.
WITH counts AS (
    SELECT t.snapshot_id AS target, k.keyphrase, k.doc_freq AS y_a, 0 AS y_b, t.seq, k.display
    FROM trend_targets t
    JOIN keyword_trends k ON k.snapshot_id = t.snapshot_id AND k.doc_freq > 0
    UNION ALL
    SELECT t.snapshot_id, k.keyphrase, 0, k.doc_freq, w.seq, k.display
    FROM trend_targets t
    JOIN snapshot_sequence w ON w.seq BETWEEN t.seq - $window AND t.seq - 1
    JOIN keyword_trends k ON k.snapshot_id = w.snapshot_id AND k.doc_freq > 0
)
SELECT target, keyphrase, sum(y_a)::DOUBLE AS y_a, sum(y_b)::DOUBLE AS y_b,
       arg_max(display, seq) AS display
FROM counts GROUP BY target, keyphrase;

CREATE OR REPLACE TEMP TABLE trend_stats AS
WITH totals AS (
    SELECT target, sum(y_a) AS n_a, sum(y_b) AS n_b FROM trend_counts GROUP BY target
),
priors AS (
    SELECT c.*, t.n_a, t.n_b,
           $prior * (c.y_a + c.y_b) / (t.n_a + t.n_b) AS alpha
    FROM trend_counts c JOIN totals t USING (target)
    WHERE t.n_b > 0 AND t.n_a > 0
),
odds AS (
    SELECT *,
           ln((y_a + alpha) / (n_a + $prior - y_a - alpha))
             - ln((y_b + alpha) / (n_b + $prior - y_b - alpha)) AS log_odds,
           1 / (y_a + alpha) + 1 / (y_b + alpha) AS variance
    FROM priors
)
SELECT target AS snapshot_id, keyphrase, display, y_a::INTEGER AS doc_freq,
       y_b::INTEGER AS window_doc_freq,
       CASE WHEN y_a + y_b >= $min_support THEN log_odds END AS log_odds,
       CASE WHEN y_a + y_b >= $min_support THEN log_odds / sqrt(variance) END AS z
FROM odds;

-- Rows of keyphrases absent from a target but present in its window are rebuilt.
DELETE FROM keyword_trends
WHERE doc_freq = 0 AND snapshot_id IN (SELECT snapshot_id FROM trend_targets);

INSERT INTO keyword_trends BY NAME
SELECT s.keyphrase, s.snapshot_id, t.observed_on, s.display, 0 AS doc_freq, 0.0 AS share,
       s.window_doc_freq, s.log_odds, s.z
FROM trend_stats s JOIN trend_targets t USING (snapshot_id)
WHERE s.doc_freq = 0 AND s.z IS NOT NULL;

UPDATE keyword_trends SET window_doc_freq = NULL, log_odds = NULL, z = NULL
WHERE snapshot_id IN (SELECT snapshot_id FROM trend_targets);

UPDATE keyword_trends
SET window_doc_freq = s.window_doc_freq, log_odds = s.log_odds, z = s.z
FROM trend_stats s
WHERE keyword_trends.snapshot_id = s.snapshot_id AND keyword_trends.keyphrase = s.keyphrase
  AND keyword_trends.doc_freq > 0;

-- Rising and falling keyphrases of the last $recent snapshots pooled against the $baseline
-- snapshots before them: log-odds ratio with an informative Dirichlet prior of strength $prior
-- (the pooled counts), as a z-score, for keyphrases with at least $min_support papers, shown
-- in their latest display form.
WITH bounds AS (SELECT max(seq) AS last FROM snapshot_sequence),
sides AS (
    SELECT q.snapshot_id, q.seq, CASE WHEN q.seq > b.last - $recent THEN 'a' ELSE 'b' END AS side
    FROM snapshot_sequence q, bounds b
    WHERE q.seq > b.last - $recent - $baseline
),
counts AS (
    SELECT k.keyphrase,
           sum(k.doc_freq) FILTER (WHERE s.side = 'a')::DOUBLE AS y_a,
           sum(k.doc_freq) FILTER (WHERE s.side = 'b')::DOUBLE AS y_b,
           arg_max(k.display, s.seq) AS display
    FROM keyword_trends k JOIN sides s USING (snapshot_id)
    WHERE k.doc_freq > 0
    GROUP BY k.keyphrase
),
filled AS (
    SELECT keyphrase, display, coalesce(y_a, 0) AS y_a, coalesce(y_b, 0) AS y_b FROM counts
),
totals AS (SELECT sum(y_a) AS n_a, sum(y_b) AS n_b FROM filled),
scored AS (
    SELECT f.*, $prior * (f.y_a + f.y_b) / (t.n_a + t.n_b) AS alpha, t.n_a, t.n_b
    FROM filled f, totals t WHERE t.n_a > 0 AND t.n_b > 0 AND f.y_a + f.y_b >= $min_support
)
SELECT s.display, s.y_a::INTEGER, s.y_b::INTEGER,
       (ln((s.y_a + s.alpha) / (s.n_a + $prior - s.y_a - s.alpha))
        - ln((s.y_b + s.alpha) / (s.n_b + $prior - s.y_b - s.alpha)))
       / sqrt(1 / (s.y_a + s.alpha) + 1 / (s.y_b + s.alpha)) AS z
FROM scored s
ORDER BY z DESC, s.display

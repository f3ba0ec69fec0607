-- Rising (z > 0) and falling (z < 0) keyphrases of one snapshot against its trailing window,
-- strongest first, with their share in each of the last snapshots.
-- Parameters: $snapshot_id, $limit, $history.
WITH ranked AS (
    SELECT keyphrase, display, doc_freq, window_doc_freq, z,
           row_number() OVER (PARTITION BY z > 0 ORDER BY abs(z) DESC, keyphrase) AS position
    FROM keyword_trends
    WHERE snapshot_id = $snapshot_id AND z IS NOT NULL
),
recent AS (
    SELECT q.snapshot_id, q.observed_on FROM snapshot_sequence q
    WHERE q.seq BETWEEN (SELECT seq FROM snapshot_sequence WHERE snapshot_id = $snapshot_id) - $history + 1
                    AND (SELECT seq FROM snapshot_sequence WHERE snapshot_id = $snapshot_id)
)
SELECT r.display, r.doc_freq, r.window_doc_freq, r.z,
       list(struct_pack(day := s.observed_on, share := coalesce(t.share, 0.0)) ORDER BY s.observed_on)
         AS shares
FROM ranked r
CROSS JOIN recent s
LEFT JOIN keyword_trends t ON t.snapshot_id = s.snapshot_id AND t.keyphrase = r.keyphrase
WHERE r.position <= $limit
GROUP BY r.display, r.doc_freq, r.window_doc_freq, r.z
ORDER BY r.z DESC, r.display

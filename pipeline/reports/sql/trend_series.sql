-- Share of papers with each of the corpus's most frequent keyphrases, per snapshot, over the last
-- $history snapshots. Parameters: $top, $history.
-- The top keyphrases are found by their counts first (one integer column of every keyphrase);
-- only keyphrases at or above the $top-th count have their text read.
WITH cutoff AS (
    SELECT min(doc_freq) AS doc_freq
    FROM (SELECT doc_freq FROM keywords ORDER BY doc_freq DESC LIMIT $top)
),
top AS (
    SELECT k.keyphrase, k.display FROM keywords k, cutoff c
    WHERE k.doc_freq >= c.doc_freq
    ORDER BY k.doc_freq DESC, k.keyphrase LIMIT $top
),
recent AS (
    SELECT snapshot_id, observed_on FROM snapshot_sequence
    WHERE seq > (SELECT max(seq) FROM snapshot_sequence) - $history
)
SELECT t.display,
       list(struct_pack(day := r.observed_on, share := coalesce(k.share, 0.0)) ORDER BY r.observed_on)
FROM top t CROSS JOIN recent r
LEFT JOIN keyword_trends k ON k.keyphrase = t.keyphrase AND k.snapshot_id = r.snapshot_id
GROUP BY t.display
ORDER BY max(coalesce(k.share, 0.0)) DESC, t.display

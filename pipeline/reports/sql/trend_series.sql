-- Share of papers with each of the corpus's most frequent keyphrases, per snapshot, over the last
-- $history snapshots. Parameters: $top, $history.
WITH top AS (
    SELECT keyphrase, display FROM keywords ORDER BY doc_freq DESC, keyphrase LIMIT $top
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

-- Share of papers with each of the corpus's most frequent keyphrases, per snapshot, over the last
-- $history snapshots. Parameters: $keys (frequent_keyphrases.sql: the candidates, found by their
-- counts), $top, $history. The candidates' texts are found by their keys as a constant list,
-- which the scan checks before decoding any text.
WITH top AS (
    SELECT f.keyphrase, f.display
    FROM keyword_forms f JOIN keyword_stats s USING (keyphrase_key)
    WHERE list_contains($keys::UBIGINT[], f.keyphrase_key)
      AND list_contains($keys::UBIGINT[], s.keyphrase_key)
    ORDER BY s.doc_freq DESC, f.keyphrase LIMIT $top
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

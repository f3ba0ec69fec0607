-- The keyphrases most papers of one snapshot share. Parameters: $snapshot_id, $limit.
SELECT coalesce(k.display, t.keyphrase) AS display, t.doc_freq
FROM keyword_trends t LEFT JOIN keywords k USING (keyphrase)
WHERE t.snapshot_id = $snapshot_id AND t.doc_freq > 1
ORDER BY t.doc_freq DESC, display
LIMIT $limit

-- The keyphrases most papers of one snapshot share. Parameters: $snapshot_id, $limit.
SELECT display, doc_freq
FROM keyword_trends
WHERE snapshot_id = $snapshot_id AND doc_freq > 1
ORDER BY doc_freq DESC, display
LIMIT $limit

-- Share of papers with a code link in the last $history snapshots up to $snapshot_id.
SELECT p.observed_on, p.share_with_code
FROM papers_with_code p JOIN snapshot_sequence q USING (snapshot_id)
WHERE q.seq BETWEEN (SELECT seq FROM snapshot_sequence WHERE snapshot_id = $snapshot_id) - $history + 1
                AND (SELECT seq FROM snapshot_sequence WHERE snapshot_id = $snapshot_id)
ORDER BY q.seq

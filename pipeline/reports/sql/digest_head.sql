-- The digest's headline numbers for one snapshot. Parameter: $snapshot_id.
SELECT q.observed_on, q.n_papers, q.previous_id,
       (SELECT count(*) FROM listing_changes c
         WHERE c.snapshot_id = q.snapshot_id AND c.status = 'new') AS n_new,
       (SELECT count(*) FROM listing_changes c
         WHERE c.snapshot_id = q.snapshot_id AND c.status = 'returned') AS n_returned,
       (SELECT count(*) FROM dropped_papers d WHERE d.snapshot_id = q.snapshot_id) AS n_dropped,
       (SELECT count(DISTINCT paper_id) FROM paper_links k
         WHERE k.snapshot_id = q.snapshot_id AND k.kind = 'code') AS n_with_code
FROM snapshot_sequence q
WHERE q.snapshot_id = $snapshot_id

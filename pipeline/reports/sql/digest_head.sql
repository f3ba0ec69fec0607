-- The digests' headline numbers for some snapshots, one row each, in one pass over the
-- listings. Parameter: $snapshot_ids (a list).
WITH wanted AS (
    SELECT snapshot_id, observed_on, n_papers, previous_id FROM snapshot_sequence
    WHERE list_contains($snapshot_ids, snapshot_id)
),
changes AS (
    SELECT snapshot_id, count_if(status = 'new') AS n_new,
           count_if(status = 'returned') AS n_returned
    FROM listing_changes WHERE list_contains($snapshot_ids, snapshot_id)
    GROUP BY snapshot_id
),
dropped AS (
    SELECT snapshot_id, count(*) AS n_dropped FROM dropped_papers
    WHERE list_contains($snapshot_ids, snapshot_id)
    GROUP BY snapshot_id
),
code AS (
    SELECT snapshot_id, count(DISTINCT paper_id) AS n_with_code FROM paper_links
    WHERE list_contains($snapshot_ids, snapshot_id) AND kind = 'code'
    GROUP BY snapshot_id
)
SELECT w.snapshot_id, w.observed_on, w.n_papers, w.previous_id,
       coalesce(c.n_new, 0), coalesce(c.n_returned, 0), coalesce(d.n_dropped, 0),
       coalesce(k.n_with_code, 0)
FROM wanted w
LEFT JOIN changes c USING (snapshot_id)
LEFT JOIN dropped d USING (snapshot_id)
LEFT JOIN code k USING (snapshot_id)

-- Titles of the $top_n best-ranked papers of each of some snapshots. Parameters: $snapshot_ids
-- (a list), $top_n. A paper listed in a snapshot was last seen on its day or later, so the titles
-- are read from papers last seen since the earliest of them: DuckLake skips the files of papers
-- not seen since (the ranked_papers view would read every paper's id and title).
WITH top AS (
    SELECT snapshot_id, paper_id, rank FROM listings
    WHERE list_contains($snapshot_ids, snapshot_id) AND rank <= $top_n
)
SELECT t.snapshot_id, list(p.title ORDER BY t.rank)
FROM top t JOIN papers p USING (paper_id)
WHERE p.last_seen >= (
    SELECT min(observed_on) FROM snapshots WHERE list_contains($snapshot_ids, snapshot_id)
)
GROUP BY t.snapshot_id

-- The given papers of one snapshot (its top ones) with rank change, keyphrases, code links and
-- related papers. Parameters: $snapshot_id, $observed_on (its date), $paper_ids (a list).
-- Rows are found by the snapshot id and the paper ids as constants: the warehouse reads only
-- that snapshot's keyphrase and link files. The papers' texts are read from rows last seen on
-- the snapshot's day or later (a listed paper's last_seen is at least that day), so the files
-- of papers not seen since are skipped by their statistics rather than decoded.
-- Edges and texts are matched by paper key (md5_number_lower of the id): over millions of
-- stored rows, comparing 64-bit keys is about twice as fast as comparing the string ids.
WITH top AS (
    SELECT rank, previous_rank, status, paper_id FROM listing_changes
    WHERE snapshot_id = $snapshot_id AND list_contains($paper_ids, paper_id)
),
keyphrases AS (
    SELECT paper_id, list(display ORDER BY rank) AS keyphrases FROM paper_keywords
    WHERE snapshot_id = $snapshot_id AND list_contains($paper_ids, paper_id)
    GROUP BY paper_id
),
code AS (
    SELECT paper_id, list(url ORDER BY position) AS code_links FROM paper_links
    WHERE snapshot_id = $snapshot_id AND kind = 'code' AND list_contains($paper_ids, paper_id)
    GROUP BY paper_id
),
edge_rows AS MATERIALIZED (
    SELECT rowid AS row FROM related_edges
    WHERE paper_key IN (SELECT md5_number_lower(unnest($paper_ids)))
),
best_edges AS (
    SELECT paper_id, related_id, score, shared_terms,
           row_number() OVER (PARTITION BY paper_id ORDER BY score DESC, related_id) AS rank
    FROM related_edges
    WHERE rowid IN (SELECT row FROM edge_rows)
    QUALIFY rank <= 3
),
related_rows AS MATERIALIZED (
    SELECT rowid AS row FROM papers WHERE paper_id IN (SELECT related_id FROM best_edges)
),
related AS (
    SELECT r.paper_id,
           list(struct_pack(title := q.title, score := r.score, shared := r.shared_terms)
                ORDER BY r.rank) AS related
    FROM best_edges r
    JOIN (SELECT paper_id, title FROM papers WHERE rowid IN (SELECT row FROM related_rows)) q
      ON q.paper_id = r.related_id
    GROUP BY r.paper_id
),
texts AS (
    SELECT paper_id, title, abstract FROM papers
    WHERE last_seen >= $observed_on
      AND list_contains(list_transform($paper_ids, id -> md5_number_lower(id)), paper_key)
)
SELECT t.rank, t.previous_rank, t.status, t.paper_id, p.title, p.abstract,
       coalesce(k.keyphrases, []) AS keyphrases,
       coalesce(c.code_links, []) AS code_links,
       coalesce(r.related, []) AS related
FROM top t
JOIN texts p USING (paper_id)
LEFT JOIN keyphrases k USING (paper_id)
LEFT JOIN code c USING (paper_id)
LEFT JOIN related r USING (paper_id)
ORDER BY t.rank

-- The top papers of one snapshot with rank change, keyphrases, code links and related papers.
-- Parameters: $snapshot_id, $top_n.
-- Keyphrases and links are filtered by the snapshot id as a constant, so the warehouse reads
-- only that snapshot's files; related papers are looked up for the top papers only.
WITH top AS (
    SELECT rank, previous_rank, status, paper_id FROM listing_changes
    WHERE snapshot_id = $snapshot_id
    ORDER BY rank
    LIMIT $top_n
),
keyphrases AS (
    SELECT paper_id, list(display ORDER BY rank) AS keyphrases FROM paper_keywords
    WHERE snapshot_id = $snapshot_id AND paper_id IN (SELECT paper_id FROM top)
    GROUP BY paper_id
),
code AS (
    SELECT paper_id, list(url ORDER BY position) AS code_links FROM paper_links
    WHERE snapshot_id = $snapshot_id AND kind = 'code' AND paper_id IN (SELECT paper_id FROM top)
    GROUP BY paper_id
),
best_edges AS (
    SELECT paper_id, related_id, score, shared_terms,
           row_number() OVER (PARTITION BY paper_id ORDER BY score DESC, related_id) AS rank
    FROM related_edges
    WHERE paper_id IN (SELECT paper_id FROM top)
    QUALIFY rank <= 3
),
related AS (
    SELECT r.paper_id,
           list(struct_pack(title := q.title, score := r.score, shared := r.shared_terms)
                ORDER BY r.rank) AS related
    FROM best_edges r JOIN papers q ON q.paper_id = r.related_id
    GROUP BY r.paper_id
)
SELECT t.rank, t.previous_rank, t.status, t.paper_id, p.title, p.abstract,
       coalesce(k.keyphrases, []) AS keyphrases,
       coalesce(c.code_links, []) AS code_links,
       coalesce(r.related, []) AS related
FROM top t
JOIN papers p USING (paper_id)
LEFT JOIN keyphrases k USING (paper_id)
LEFT JOIN code c USING (paper_id)
LEFT JOIN related r USING (paper_id)
ORDER BY t.rank

-- Drop the papers no snapshot lists any more (an earlier version of the snapshot being loaded
-- had them), with their term-index entries and related-paper edges. Runs in the load
-- transaction after load_snapshot.sql, only when its `orphans` table has rows.

DELETE FROM papers WHERE paper_id IN (SELECT paper_id FROM orphans);

-- Indexed orphans take their terms (leaving_terms: the terms of the indexed papers this version
-- stops listing, as their stored text reads) out of the term statistics.
UPDATE term_stats SET doc_freq = term_stats.doc_freq - gone.n
FROM (
    SELECT md5_number_lower(term) AS term_key, count(*)::INTEGER AS n FROM leaving_terms
    WHERE paper_id IN (SELECT paper_id FROM orphans)
      AND paper_id IN (SELECT paper_id FROM indexed_papers)
    GROUP BY term_key
) gone
WHERE term_stats.term_key = gone.term_key;
DELETE FROM term_stats
WHERE doc_freq <= 0 AND term_key IN (SELECT md5_number_lower(term) FROM leaving_terms);
DELETE FROM paper_terms WHERE paper_id IN (SELECT paper_id FROM orphans);
DELETE FROM indexed_papers WHERE paper_id IN (SELECT paper_id FROM orphans);

-- Lists that lose a neighbour fall back to their next best stored edge (related_papers view),
-- and their papers' top_scores are read again from what is left.
CREATE OR REPLACE TEMP TABLE losing AS
SELECT DISTINCT paper_id FROM related_edges
WHERE related_id IN (SELECT paper_id FROM orphans)
  AND paper_id NOT IN (SELECT paper_id FROM orphans);
DELETE FROM related_edges
WHERE paper_id IN (SELECT paper_id FROM orphans) OR related_id IN (SELECT paper_id FROM orphans);
UPDATE indexed_papers SET top_scores = r.top_scores, last_score = r.top_scores[$neighbours]
FROM (
    SELECT l.paper_id,
           coalesce(list(e.score ORDER BY e.score DESC) FILTER (WHERE e.score IS NOT NULL), [])
               [1:$neighbours] AS top_scores
    FROM losing l LEFT JOIN related_edges e USING (paper_id)
    GROUP BY l.paper_id
) r
WHERE indexed_papers.paper_id = r.paper_id;

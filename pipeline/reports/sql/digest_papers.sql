-- The top papers of one snapshot with rank change, keyphrases, code links and related papers.
-- Parameters: $snapshot_id, $top_n.
SELECT c.rank, c.previous_rank, c.status, c.paper_id, p.title, p.abstract,
       coalesce((SELECT list(k.display ORDER BY k.rank) FROM paper_keywords k
                  WHERE k.snapshot_id = c.snapshot_id AND k.paper_id = c.paper_id), []) AS keyphrases,
       coalesce((SELECT list(l.url ORDER BY l.position) FROM paper_links l
                  WHERE l.snapshot_id = c.snapshot_id AND l.paper_id = c.paper_id
                    AND l.kind = 'code'), []) AS code_links,
       coalesce((SELECT list(struct_pack(title := q.title, score := r.score,
                                         shared := r.shared_terms) ORDER BY r.rank)
                  FROM related_papers r JOIN papers q ON q.paper_id = r.related_id
                  WHERE r.paper_id = c.paper_id AND r.rank <= 3), []) AS related
FROM listing_changes c JOIN papers p USING (paper_id)
WHERE c.snapshot_id = $snapshot_id
ORDER BY c.rank
LIMIT $top_n

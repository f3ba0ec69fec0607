-- Papers' rank histories over the last $history snapshots: the longest-trending papers (most
-- snapshots listed) and the fastest climbers (largest gain from their first rank in that period
-- to their rank in the latest snapshot). Parameters: $history, $top.
WITH recent AS (
    SELECT snapshot_id, observed_on, seq FROM snapshot_sequence
    WHERE seq > (SELECT max(seq) FROM snapshot_sequence) - $history
),
latest AS (SELECT snapshot_id FROM recent ORDER BY seq DESC LIMIT 1),
histories AS (
    SELECT l.paper_id,
           list(struct_pack(day := r.observed_on, rank := l.rank) ORDER BY r.seq) AS ranks,
           arg_min(l.rank, r.seq) AS first_rank,
           max(r.seq) = (SELECT max(seq) FROM recent) AS listed_now
    FROM listings l JOIN recent r USING (snapshot_id)
    GROUP BY l.paper_id
),
current AS (SELECT paper_id, rank FROM listings WHERE snapshot_id = (SELECT snapshot_id FROM latest))
SELECT * FROM (
SELECT 'longest' AS kind, p.title, p.n_snapshots, p.first_seen, c.rank AS current_rank,
       h.first_rank, h.ranks
FROM papers p JOIN histories h USING (paper_id) LEFT JOIN current c USING (paper_id)
QUALIFY row_number() OVER (ORDER BY p.n_snapshots DESC, c.rank NULLS LAST, p.title) <= $top
UNION ALL
SELECT 'climber', p.title, p.n_snapshots, p.first_seen, c.rank, h.first_rank, h.ranks
FROM papers p JOIN histories h USING (paper_id) JOIN current c USING (paper_id)
WHERE h.first_rank > c.rank
QUALIFY row_number() OVER (ORDER BY h.first_rank - c.rank DESC, c.rank, p.title) <= $top
)
ORDER BY kind DESC, CASE kind WHEN 'longest' THEN -n_snapshots ELSE current_rank - first_rank END,
         current_rank NULLS LAST, title

-- Papers' rank histories over the last $history snapshots: the longest-trending papers (most
-- snapshots listed) and the fastest climbers (largest gain from their first rank in that period
-- to their rank in the latest snapshot). Parameters: $history, $top.
-- Papers are chosen from narrow columns first; rank histories are built for the chosen only.
WITH recent AS (
    SELECT snapshot_id, observed_on, seq FROM snapshot_sequence
    WHERE seq > (SELECT max(seq) FROM snapshot_sequence) - $history
),
latest AS (SELECT snapshot_id FROM recent ORDER BY seq DESC LIMIT 1),
first_ranks AS (
    SELECT l.paper_id, arg_min(l.rank, r.seq) AS first_rank
    FROM listings l JOIN recent r USING (snapshot_id)
    GROUP BY l.paper_id
),
current AS (SELECT paper_id, rank FROM listings WHERE snapshot_id = (SELECT snapshot_id FROM latest)),
-- a paper listed in the period was last seen in it or later: older papers' files are skipped
listed AS (
    SELECT paper_id, title, n_snapshots, first_seen FROM papers
    WHERE last_seen >= (SELECT min(observed_on) FROM recent)
),
chosen AS (
    SELECT 'longest' AS kind, p.paper_id, p.title, p.n_snapshots, p.first_seen,
           c.rank AS current_rank, h.first_rank
    FROM listed p JOIN first_ranks h USING (paper_id) LEFT JOIN current c USING (paper_id)
    QUALIFY row_number() OVER (ORDER BY p.n_snapshots DESC, c.rank NULLS LAST, p.title) <= $top
    UNION ALL
    SELECT 'climber', p.paper_id, p.title, p.n_snapshots, p.first_seen, c.rank, h.first_rank
    FROM listed p JOIN first_ranks h USING (paper_id) JOIN current c USING (paper_id)
    WHERE h.first_rank > c.rank
    QUALIFY row_number() OVER (ORDER BY h.first_rank - c.rank DESC, c.rank, p.title) <= $top
),
histories AS (
    SELECT l.paper_id,
           list(struct_pack(day := r.observed_on, rank := l.rank) ORDER BY r.seq) AS ranks
    FROM listings l JOIN recent r USING (snapshot_id)
    WHERE l.paper_id IN (SELECT paper_id FROM chosen)
    GROUP BY l.paper_id
)
SELECT c.kind, c.title, c.n_snapshots, c.first_seen, c.current_rank, c.first_rank, h.ranks
FROM chosen c JOIN histories h USING (paper_id)
ORDER BY c.kind DESC,
         CASE c.kind WHEN 'longest' THEN -c.n_snapshots ELSE c.current_rank - c.first_rank END,
         c.current_rank NULLS LAST, c.title

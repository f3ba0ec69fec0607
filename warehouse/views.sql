-- Views for the questions users ask every day. Applied with schema.sql; each is replaced when
-- the warehouse SQL changes.

-- The most recent snapshot (by observed date, then ingestion time).
CREATE OR REPLACE VIEW latest_snapshot AS
SELECT * FROM snapshots
ORDER BY observed_on DESC, ingested_at DESC, snapshot_id DESC
LIMIT 1;

-- Corpus statistics per keyphrase: in how many distinct papers it is a keyphrase (`doc_freq`),
-- its display form, and when it was first and last seen (see keyword_stats in schema.sql).
CREATE OR REPLACE VIEW keywords AS
SELECT f.keyphrase, f.display, s.doc_freq, s.first_seen, s.last_seen
FROM keyword_stats s JOIN keyword_forms f USING (keyphrase_key);

-- Every listing with its snapshot date and the paper's title: the base of most questions.
CREATE OR REPLACE VIEW ranked_papers AS
SELECT l.snapshot_id, s.observed_on, l.rank, l.paper_id, p.title, p.arxiv_id,
       l.upvotes, l.github_stars, p.first_seen, p.last_seen, p.n_snapshots,
       p.first_seen = s.observed_on AS is_new
FROM listings l
JOIN snapshots s USING (snapshot_id)
JOIN papers p USING (paper_id);

-- The latest digest: papers of the latest snapshot with their keyphrases and code links (the
-- columns of ranked_papers, then keyphrases and code_links). Every table is read for the latest
-- snapshot only: listings, keyphrases and links by its id, papers by last_seen (a paper listed
-- in the latest snapshot was last seen on its date, and DuckLake skips the files and row groups
-- whose last_seen range excludes it), so the cost does not grow with the history.
CREATE OR REPLACE VIEW latest_papers AS
WITH latest AS (SELECT snapshot_id, observed_on FROM latest_snapshot),
listed AS (
    SELECT l.snapshot_id, latest.observed_on, l.rank, l.paper_id, l.upvotes, l.github_stars
    FROM listings l JOIN latest USING (snapshot_id)
),
seen AS (
    SELECT p.paper_id, p.title, p.arxiv_id, p.first_seen, p.last_seen, p.n_snapshots
    FROM papers p JOIN latest ON p.last_seen = latest.observed_on
),
keyphrases AS (
    SELECT k.paper_id, list(k.display ORDER BY k.rank) AS keyphrases
    FROM paper_keywords k JOIN latest USING (snapshot_id)
    GROUP BY k.paper_id
),
code AS (
    SELECT c.paper_id, list(c.url ORDER BY c.position) AS code_links
    FROM paper_links c JOIN latest USING (snapshot_id)
    WHERE c.kind = 'code'
    GROUP BY c.paper_id
)
SELECT l.snapshot_id, l.observed_on, l.rank, l.paper_id, p.title, p.arxiv_id,
       l.upvotes, l.github_stars, p.first_seen, p.last_seen, p.n_snapshots,
       p.first_seen = l.observed_on AS is_new, k.keyphrases, c.code_links
FROM listed l
JOIN seen p USING (paper_id)
LEFT JOIN keyphrases k USING (paper_id)
LEFT JOIN code c USING (paper_id)
ORDER BY l.rank;

-- Papers seen for the first time in the latest snapshot.
CREATE OR REPLACE VIEW new_papers_today AS
SELECT * FROM latest_papers WHERE is_new;

-- Code repositories per snapshot, compared case-insensitively (display keeps the first case).
CREATE OR REPLACE VIEW top_code_repos AS
SELECT snapshot_id, host, lower(repo) AS repo_key, min(repo) AS repo,
       count(DISTINCT paper_id) AS n_papers, min(url) AS url
FROM paper_links
WHERE kind = 'code' AND repo IS NOT NULL
GROUP BY snapshot_id, host, lower(repo);

-- Per snapshot: how many papers link to code and how many do not.
CREATE OR REPLACE VIEW papers_with_code AS
SELECT s.snapshot_id, s.observed_on, s.n_papers,
       count(DISTINCT c.paper_id) AS with_code,
       s.n_papers - count(DISTINCT c.paper_id) AS without_code,
       round(count(DISTINCT c.paper_id) / greatest(s.n_papers, 1), 4) AS share_with_code
FROM snapshots s
LEFT JOIN paper_links c ON c.snapshot_id = s.snapshot_id AND c.kind = 'code'
GROUP BY s.snapshot_id, s.observed_on, s.n_papers;

-- Link hosts across all snapshots.
CREATE OR REPLACE VIEW link_hosts AS
SELECT host, kind, count(*) AS n_links, count(DISTINCT paper_id) AS n_papers
FROM paper_links
GROUP BY host, kind;

-- Snapshots in time order, each with the one before it.
CREATE OR REPLACE VIEW snapshot_sequence AS
SELECT snapshot_id, observed_on, ingested_at, n_papers,
       row_number() OVER w AS seq,
       lag(snapshot_id) OVER w AS previous_id
FROM snapshots
WINDOW w AS (ORDER BY observed_on, ingested_at, snapshot_id);

-- Every listing with its rank in the previous snapshot and whether the paper is new (never
-- listed before), returned (listed before, but not in the previous snapshot) or continuing.
-- Filtered on a snapshot, only that snapshot's listings are read whole, the previous one's by
-- its id, and its papers by date: a paper first seen before the snapshot's day was listed
-- before, and a listed paper was last seen on that day or later, so DuckLake skips the papers
-- not seen since. Only on a day with several snapshots are that day's earlier listings read
-- (same_day_listings is empty otherwise; a CTE over every listing would be materialized whole).
CREATE OR REPLACE VIEW listing_changes AS
WITH same_day_listings AS (
    SELECT e.paper_id, q.observed_on, q.seq
    FROM snapshot_sequence q JOIN listings e USING (snapshot_id)
    WHERE q.observed_on IN (
        SELECT observed_on FROM snapshots GROUP BY observed_on HAVING count(*) > 1
    )
)
SELECT l.snapshot_id, l.paper_id, l.rank, prev.rank AS previous_rank,
       CASE WHEN prev.rank IS NOT NULL THEN 'continuing'
            WHEN p.first_seen < q.observed_on THEN 'returned'
            WHEN EXISTS (
                SELECT 1 FROM same_day_listings e
                WHERE e.paper_id = l.paper_id AND e.observed_on = q.observed_on AND e.seq < q.seq
            ) THEN 'returned'
            ELSE 'new' END AS status
FROM listings l
JOIN snapshot_sequence q USING (snapshot_id)
JOIN papers p ON p.paper_id = l.paper_id AND p.last_seen >= q.observed_on
LEFT JOIN listings prev ON prev.snapshot_id = q.previous_id AND prev.paper_id = l.paper_id;

-- Papers of the previous snapshot that are missing from this one.
CREATE OR REPLACE VIEW dropped_papers AS
SELECT q.snapshot_id, l.paper_id, l.rank AS previous_rank
FROM snapshot_sequence q
JOIN listings l ON l.snapshot_id = q.previous_id
WHERE NOT EXISTS (
    SELECT 1 FROM listings c WHERE c.snapshot_id = q.snapshot_id AND c.paper_id = l.paper_id
);

-- Each paper's nearest neighbours: its 10 best edges (pipeline.related.NEIGHBOURS), best first.
-- Filter on one paper_id and only that paper's edges are read; to rank the lists of many papers
-- at once, filter related_edges first (see pipeline/reports/sql/digest_papers.sql).
CREATE OR REPLACE VIEW related_papers AS
SELECT paper_id, related_id, score,
       row_number() OVER (PARTITION BY paper_id ORDER BY score DESC, related_id)::SMALLINT AS rank,
       shared_terms, snapshot_id
FROM related_edges
QUALIFY rank <= 10;

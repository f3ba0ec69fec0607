-- Index the papers of one snapshot that are not indexed yet and link them to their nearest
-- neighbours. Input: new_terms(paper_id, term, display, tf) for the snapshot's papers
-- that are not indexed yet (pipeline.warehouse.index_related leaves the others out).
-- Parameters: $snapshot_id, $terms_per_paper, $neighbours, $common_share, $max_postings.
-- Work is proportional to the new papers and the posting lists of their (selective) terms.
-- Terms and papers are joined by 64-bit keys, md5_number_lower(term) and
-- md5_number_lower(paper_id): the millions of candidate pairs a chunk of papers produces are
-- hashed, grouped and ranked several times faster as integers than as strings, and 64 bits
-- leave collisions among millions of keys improbable. Paper ids are looked up again only for
-- the edges kept. Equal scores are ranked by key: an arbitrary order, but always the same.

CREATE OR REPLACE TEMP TABLE chunk_terms AS
SELECT *, md5_number_lower(term) AS term_key, md5_number_lower(paper_id) AS paper_key FROM new_terms;

CREATE OR REPLACE TEMP TABLE fresh AS
SELECT DISTINCT paper_id, paper_key FROM chunk_terms;

MERGE INTO term_stats AS t
USING (
    SELECT term_key, count(*)::INTEGER AS n FROM chunk_terms
    WHERE paper_key IN (SELECT paper_key FROM fresh) GROUP BY term_key
) AS f
ON t.term_key = f.term_key
WHEN MATCHED THEN UPDATE SET doc_freq = t.doc_freq + f.n
WHEN NOT MATCHED THEN INSERT (doc_freq, term_key) VALUES (f.n, f.term_key);

CREATE OR REPLACE TEMP TABLE corpus AS
SELECT ((SELECT count(*) FROM indexed_papers) + (SELECT count(*) FROM fresh))::DOUBLE AS n_papers;

-- TF-IDF weights of the fresh papers' terms; the strongest few per paper, L2-normalised.
CREATE OR REPLACE TEMP TABLE fresh_vectors AS
WITH weighted AS (
    SELECT n.paper_id, n.paper_key, n.term, n.term_key, n.display, s.doc_freq,
           (1 + ln(n.tf)) * ln(1 + c.n_papers / s.doc_freq) AS w
    FROM chunk_terms n
    JOIN fresh USING (paper_key)
    JOIN term_stats s USING (term_key)
    CROSS JOIN corpus c
    QUALIFY row_number() OVER (PARTITION BY n.paper_key ORDER BY w DESC, n.term) <= $terms_per_paper
)
SELECT paper_id, paper_key, term, term_key, display, doc_freq,
       w / sqrt(sum(w * w) OVER (PARTITION BY paper_key)) AS weight
FROM weighted;

INSERT INTO paper_terms (paper_id, term, display, weight, snapshot_id, term_key, paper_key)
SELECT paper_id, term, display, weight, $snapshot_id, term_key, paper_key FROM fresh_vectors;

-- Every indexed paper sharing a selective term with a fresh paper, and what the term adds to
-- their cosine similarity. Terms in more than $common_share of all papers (or in more than
-- $max_postings papers) are too common to link papers and are skipped: the join reads at most
-- $max_postings postings per term. The postings are read once, for the scores and the evidence.
CREATE OR REPLACE TEMP TABLE matches AS
SELECT f.paper_key, o.paper_key AS related_key, f.term_key, f.weight * o.weight AS part
FROM fresh_vectors f
CROSS JOIN corpus c
JOIN paper_terms o ON o.term_key = f.term_key AND o.paper_key <> f.paper_key
WHERE f.doc_freq <= greatest(20, least($max_postings, $common_share * c.n_papers));

CREATE OR REPLACE TEMP TABLE scores AS
SELECT paper_key, related_key, round(sum(part), 6) AS score
FROM matches
GROUP BY paper_key, related_key;

-- The fresh papers' own neighbour lists: a top-N aggregate (a window over millions of pairs
-- sorts them all); `after` ranks equal scores by key.
CREATE OR REPLACE TEMP TABLE fresh_lists AS
SELECT paper_key, best.related_key, best.score
FROM (
    SELECT paper_key,
           unnest(max_by({related_key: related_key, score: score},
                         {score: score, after: 18446744073709551615 - related_key},
                         $neighbours)) AS best
    FROM scores
    GROUP BY paper_key
);

-- The fresh papers join the index with the scores of their lists.
INSERT INTO indexed_papers (paper_id, snapshot_id, top_scores, paper_key, last_score)
SELECT paper_id, $snapshot_id, top_scores, paper_key, top_scores[$neighbours]
FROM (
    SELECT f.paper_id, f.paper_key,
           coalesce(list(l.score ORDER BY l.score DESC) FILTER (WHERE l.score IS NOT NULL), [])
               AS top_scores
    FROM fresh f LEFT JOIN fresh_lists l USING (paper_key)
    GROUP BY f.paper_id, f.paper_key
);

-- Known papers whose lists a fresh paper now enters: it beats their current last neighbour, or
-- their list is not full yet. Each indexed paper keeps the scores of its best stored edges
-- (top_scores) and the last of them (last_score, NULL: the list is not full), so the lists of
-- the (many) candidates are read neither from related_edges nor from top_scores.
CREATE OR REPLACE TEMP TABLE entering AS
WITH candidates AS (
    SELECT related_key AS paper_key, paper_key AS related_key, score
    FROM scores WHERE related_key NOT IN (SELECT paper_key FROM fresh)
),
thresholds AS (
    SELECT paper_key, last_score FROM indexed_papers
)
SELECT c.* FROM candidates c JOIN thresholds t USING (paper_key)
WHERE t.last_score IS NULL OR c.score > t.last_score
QUALIFY row_number() OVER (PARTITION BY c.paper_key ORDER BY c.score DESC, c.related_key) <= $neighbours;

UPDATE indexed_papers SET top_scores = u.top_scores, last_score = u.top_scores[$neighbours]
FROM (
    SELECT n.paper_key,
           list_reverse_sort(list_concat(any_value(i.top_scores), list(n.score)))[1:$neighbours]
               AS top_scores
    FROM entering n JOIN indexed_papers i USING (paper_key)
    GROUP BY n.paper_key
) u
WHERE indexed_papers.paper_key = u.paper_key;

-- The evidence of each new edge: the shared terms that contribute most, for the edges kept only
-- (their display forms read from the fresh paper's vector). The kept edges' postings are picked
-- out first (materialized), or the planner joins every posting to the vectors' strings.
CREATE OR REPLACE TEMP TABLE evidence AS
WITH edges AS (
    SELECT paper_key AS fresh_key, related_key AS other_key FROM fresh_lists
    UNION
    SELECT related_key, paper_key FROM entering
),
kept AS MATERIALIZED (
    SELECT m.* FROM matches m
    SEMI JOIN edges e ON m.paper_key = e.fresh_key AND m.related_key = e.other_key
)
SELECT k.paper_key AS fresh_key, k.related_key AS other_key,
       list(v.display ORDER BY k.part DESC, v.term)[1:5] AS shared_terms
FROM kept k
JOIN fresh_vectors v ON v.paper_key = k.paper_key AND v.term_key = k.term_key
GROUP BY k.paper_key, k.related_key;

-- The ids of the papers at either end of a kept edge.
CREATE OR REPLACE TEMP TABLE ids AS
SELECT paper_key, paper_id FROM indexed_papers
WHERE paper_key IN (SELECT other_key FROM evidence UNION ALL SELECT fresh_key FROM evidence);

-- Edges are only added; the related_papers view keeps each paper's best $neighbours, so an
-- edge a better one pushes out of a list stays stored (and returns if that one's paper goes).
INSERT INTO related_edges (paper_id, related_id, score, shared_terms, snapshot_id, paper_key)
SELECT p.paper_id, r.paper_id, l.score, e.shared_terms, $snapshot_id, l.paper_key
FROM fresh_lists l JOIN evidence e ON e.fresh_key = l.paper_key AND e.other_key = l.related_key
JOIN ids p ON p.paper_key = l.paper_key JOIN ids r ON r.paper_key = l.related_key;

INSERT INTO related_edges (paper_id, related_id, score, shared_terms, snapshot_id, paper_key)
SELECT p.paper_id, r.paper_id, n.score, e.shared_terms, $snapshot_id, n.paper_key
FROM entering n JOIN evidence e ON e.fresh_key = n.related_key AND e.other_key = n.paper_key
JOIN ids p ON p.paper_key = n.paper_key JOIN ids r ON r.paper_key = n.related_key;

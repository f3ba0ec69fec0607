-- Index the papers of one snapshot that are not indexed yet and link them to their nearest
-- neighbours. Input: new_terms(paper_id, term, display, tf) for the snapshot's papers.
-- Parameters: $snapshot_id, $terms_per_paper, $neighbours, $common_share, $max_postings.
-- Work is proportional to the new papers and the posting lists of their (selective) terms.
-- Terms are joined by term_key, md5_number_lower(term): reading and hashing 64-bit integers
-- is several times faster than strings, and 64 bits leave collisions among millions of terms
-- improbable.

CREATE OR REPLACE TEMP TABLE chunk_terms AS
SELECT *, md5_number_lower(term) AS term_key FROM new_terms;

CREATE OR REPLACE TEMP TABLE fresh AS
SELECT DISTINCT paper_id FROM chunk_terms
WHERE paper_id NOT IN (SELECT paper_id FROM indexed_papers);

MERGE INTO term_stats AS t
USING (
    SELECT term_key, min(term) AS term, count(*)::INTEGER AS n FROM chunk_terms
    WHERE paper_id IN (SELECT paper_id FROM fresh) GROUP BY term_key
) AS f
ON t.term_key = f.term_key
WHEN MATCHED THEN UPDATE SET doc_freq = t.doc_freq + f.n
WHEN NOT MATCHED THEN INSERT (term, doc_freq, term_key) VALUES (f.term, f.n, f.term_key);

CREATE OR REPLACE TEMP TABLE corpus AS
SELECT ((SELECT count(*) FROM indexed_papers) + (SELECT count(*) FROM fresh))::DOUBLE AS n_papers;

-- TF-IDF weights of the fresh papers' terms; the strongest few per paper, L2-normalised.
CREATE OR REPLACE TEMP TABLE fresh_vectors AS
WITH weighted AS (
    SELECT n.paper_id, n.term, n.term_key, n.display, s.doc_freq,
           (1 + ln(n.tf)) * ln(1 + c.n_papers / s.doc_freq) AS w
    FROM chunk_terms n
    JOIN fresh USING (paper_id)
    JOIN term_stats s USING (term_key)
    CROSS JOIN corpus c
    QUALIFY row_number() OVER (PARTITION BY n.paper_id ORDER BY w DESC, n.term) <= $terms_per_paper
)
SELECT paper_id, term, term_key, display, doc_freq,
       w / sqrt(sum(w * w) OVER (PARTITION BY paper_id)) AS weight
FROM weighted;

INSERT INTO paper_terms (paper_id, term, display, weight, snapshot_id, term_key)
SELECT paper_id, term, display, weight, $snapshot_id, term_key FROM fresh_vectors;

-- Every indexed paper sharing a selective term with a fresh paper, and what the term adds to
-- their cosine similarity. Terms in more than $common_share of all papers (or in more than
-- $max_postings papers) are too common to link papers and are skipped: the join reads at most
-- $max_postings postings per term. The postings are read once, for the scores and the evidence.
CREATE OR REPLACE TEMP TABLE matches AS
SELECT f.paper_id, o.paper_id AS related_id, f.term, f.display, f.weight * o.weight AS part
FROM fresh_vectors f
CROSS JOIN corpus c
JOIN paper_terms o ON o.term_key = f.term_key AND o.paper_id <> f.paper_id
WHERE f.doc_freq <= greatest(20, least($max_postings, $common_share * c.n_papers));

CREATE OR REPLACE TEMP TABLE scores AS
SELECT paper_id, related_id, round(sum(part), 6) AS score
FROM matches
GROUP BY paper_id, related_id;

-- The fresh papers' own neighbour lists.
CREATE OR REPLACE TEMP TABLE fresh_lists AS
SELECT paper_id, related_id, score,
       row_number() OVER (PARTITION BY paper_id ORDER BY score DESC, related_id) AS rank
FROM scores
QUALIFY rank <= $neighbours;

-- The fresh papers join the index with the scores of their lists.
INSERT INTO indexed_papers (paper_id, snapshot_id, top_scores)
SELECT f.paper_id, $snapshot_id,
       coalesce(list(l.score ORDER BY l.score DESC) FILTER (WHERE l.score IS NOT NULL), [])
FROM fresh f LEFT JOIN fresh_lists l USING (paper_id)
GROUP BY f.paper_id;

-- Known papers whose lists a fresh paper now enters: it beats their current last neighbour, or
-- their list is not full yet. Each indexed paper keeps the scores of its best stored edges
-- (top_scores), so the lists of the (many) candidates are not read from related_edges.
CREATE OR REPLACE TEMP TABLE entering AS
WITH candidates AS (
    SELECT related_id AS paper_id, paper_id AS related_id, score
    FROM scores WHERE related_id NOT IN (SELECT paper_id FROM fresh)
)
SELECT c.* FROM candidates c JOIN indexed_papers i USING (paper_id)
WHERE len(i.top_scores) < $neighbours OR c.score > i.top_scores[$neighbours]
QUALIFY row_number() OVER (PARTITION BY c.paper_id ORDER BY c.score DESC, c.related_id) <= $neighbours;

UPDATE indexed_papers SET top_scores = u.top_scores
FROM (
    SELECT n.paper_id,
           list_reverse_sort(list_concat(any_value(i.top_scores), list(n.score)))[1:$neighbours]
               AS top_scores
    FROM entering n JOIN indexed_papers i USING (paper_id)
    GROUP BY n.paper_id
) u
WHERE indexed_papers.paper_id = u.paper_id;

-- The evidence of each new edge: the shared terms that contribute most, for the edges kept only.
CREATE OR REPLACE TEMP TABLE evidence AS
WITH edges AS (
    SELECT paper_id AS fresh_id, related_id AS other_id FROM fresh_lists
    UNION
    SELECT related_id, paper_id FROM entering
)
SELECT e.fresh_id, e.other_id,
       list(m.display ORDER BY m.part DESC, m.term)[1:5] AS shared_terms
FROM edges e
JOIN matches m ON m.paper_id = e.fresh_id AND m.related_id = e.other_id
GROUP BY e.fresh_id, e.other_id;

-- Edges are only added; the related_papers view keeps each paper's best $neighbours, so an
-- edge a better one pushes out of a list stays stored (and returns if that one's paper goes).
INSERT INTO related_edges
SELECT l.paper_id, l.related_id, l.score, e.shared_terms, $snapshot_id
FROM fresh_lists l JOIN evidence e ON e.fresh_id = l.paper_id AND e.other_id = l.related_id;

INSERT INTO related_edges
SELECT n.paper_id, n.related_id, n.score, e.shared_terms, $snapshot_id
FROM entering n JOIN evidence e ON e.fresh_id = n.related_id AND e.other_id = n.paper_id;

-- Load one snapshot, replacing whatever an earlier version of it loaded. Runs inside one
-- transaction (see pipeline.warehouse.load_snapshot), so readers see the old state or the new,
-- never a mixture. Inputs, registered by the caller: new_snapshot (one row), new_papers (with
-- title_key), new_keywords, new_links, all with paper ids already resolved against known papers.
-- Parameters: $snapshot_id, $id_list_max (see touched_ids below).
-- Work is proportional to the snapshot: every statement is keyed by this snapshot or its papers.

CREATE OR REPLACE TEMP TABLE touched_papers AS
SELECT paper_id FROM new_papers
UNION
SELECT paper_id FROM listings WHERE snapshot_id = $snapshot_id;

-- The touched ids as a constant for the papers MERGE below: a table filtered by
-- list_contains(getvariable('touched_ids'), paper_id) decodes its other columns only where an
-- id occurs, where a join with touched_papers would decode every row of history. The filter
-- costs ids x rows, so beyond $id_list_max ids the variable is NULL and the filter is dropped
-- (coalesce(..., true)), leaving the joins to find the rows. Narrow tables (paper_keywords:
-- two short columns) are cheaper to semi-join with touched_papers (172 -> 113 ms at 300,000
-- papers).
SET VARIABLE touched_ids = (
    SELECT CASE WHEN count(*) <= $id_list_max THEN coalesce(list(paper_id), []) END
    FROM touched_papers
);

-- The touched papers' listings before this load, read once: they tell where the papers' stored
-- rows can be (below) and, with this snapshot's new listings, when each was seen (paper_seen).
CREATE OR REPLACE TEMP TABLE touched_listings AS
SELECT paper_id, snapshot_id FROM listings
WHERE paper_id IN (SELECT paper_id FROM touched_papers);

-- Where the touched papers' stored rows can be: the snapshots that list them, and the dates they
-- were last seen (both read from narrow columns). A daily snapshot's papers are new or seen
-- lately, so the reads of paper_keywords and papers below filter by these: the BETWEEN bounds
-- skip the data files of older snapshots by their min/max statistics (a list_contains alone is
-- checked row by row, after every row of history is decoded).
SET VARIABLE touched_snapshots = (
    SELECT coalesce(list(DISTINCT snapshot_id), []) FROM touched_listings
);

SET VARIABLE touched_last_seen = (
    SELECT coalesce(list(DISTINCT last_seen), []) FROM papers
    WHERE paper_id IN (SELECT paper_id FROM touched_papers)
);

CREATE OR REPLACE TEMP TABLE touched_keywords AS
SELECT DISTINCT paper_id, keyphrase FROM new_keywords
UNION
SELECT DISTINCT paper_id, keyphrase FROM paper_keywords WHERE snapshot_id = $snapshot_id;

-- keyphrases the version being replaced had (none on a first load)
CREATE OR REPLACE TEMP TABLE replaced_keywords AS
SELECT DISTINCT keyphrase FROM paper_keywords WHERE snapshot_id = $snapshot_id;

-- Whether each touched paper has each touched keyphrase now (present), and in a snapshot other
-- than this one (kept: it still has it after this snapshot's rows are replaced). One read of
-- the touched papers' keyphrases serves the before and the after of the corpus statistics.
CREATE OR REPLACE TEMP TABLE keywords_before AS
SELECT t.paper_id, t.keyphrase, count(k.paper_id) > 0 AS present,
       count(k.paper_id) FILTER (WHERE k.snapshot_id <> $snapshot_id) > 0 AS kept
FROM touched_keywords t
LEFT JOIN (
    SELECT paper_id, keyphrase, snapshot_id FROM paper_keywords
    WHERE snapshot_id BETWEEN list_min(getvariable('touched_snapshots'))
                          AND list_max(getvariable('touched_snapshots'))
      AND list_contains(getvariable('touched_snapshots'), snapshot_id)
      AND paper_id IN (SELECT paper_id FROM touched_papers)
) k USING (paper_id, keyphrase)
GROUP BY ALL;

DELETE FROM snapshots WHERE snapshot_id = $snapshot_id;
INSERT INTO snapshots BY NAME SELECT * FROM new_snapshot;

DELETE FROM listings WHERE snapshot_id = $snapshot_id;
INSERT INTO listings BY NAME
SELECT $snapshot_id AS snapshot_id, paper_id, rank, upvotes, github_stars FROM new_papers;

DELETE FROM paper_keywords WHERE snapshot_id = $snapshot_id;
INSERT INTO paper_keywords BY NAME SELECT * FROM new_keywords;

DELETE FROM paper_links WHERE snapshot_id = $snapshot_id;
INSERT INTO paper_links BY NAME SELECT * FROM new_links;

-- Papers: every touched paper's first/last seen and snapshot count come from its listings (those
-- of other snapshots, and this snapshot's new ones); new papers are inserted, known ones get
-- this snapshot's text unless it is older than the latest snapshot they were seen in. Papers no
-- snapshot lists any more (an earlier version of this snapshot had them) are left for
-- drop_orphans.sql.
CREATE OR REPLACE TEMP TABLE paper_seen AS
SELECT t.paper_id, min(s.observed_on) AS first_seen, max(s.observed_on) AS last_seen,
       count(DISTINCT l.snapshot_id)::INTEGER AS n_snapshots
FROM touched_papers t
LEFT JOIN (
    SELECT paper_id, snapshot_id FROM touched_listings WHERE snapshot_id <> $snapshot_id
    UNION ALL
    SELECT paper_id, $snapshot_id AS snapshot_id FROM new_papers
) l USING (paper_id)
LEFT JOIN snapshots s USING (snapshot_id)
GROUP BY t.paper_id;

CREATE OR REPLACE TEMP TABLE orphans AS SELECT paper_id FROM paper_seen WHERE n_snapshots = 0;

-- (DuckLake's MERGE takes one UPDATE action, so the text columns choose per row.)
MERGE INTO papers AS p
USING (
    SELECT seen.*, n.paper_id IS NOT NULL AS listed, n.title, n.title_key, n.abstract,
           n.arxiv_id, n.truncated, n.authors, n.published_on, o.observed_on
    FROM paper_seen seen
    LEFT JOIN new_papers n USING (paper_id)
    CROSS JOIN new_snapshot o
    WHERE seen.n_snapshots > 0
) AS n
ON p.paper_id = n.paper_id
   AND p.last_seen BETWEEN list_min(getvariable('touched_last_seen'))
                       AND list_max(getvariable('touched_last_seen'))
   AND list_contains(getvariable('touched_last_seen'), p.last_seen)
   AND coalesce(list_contains(getvariable('touched_ids'), p.paper_id), true)
WHEN MATCHED THEN UPDATE SET
    title = CASE WHEN n.listed AND n.observed_on >= p.last_seen THEN n.title ELSE p.title END,
    title_key = CASE WHEN n.listed AND n.observed_on >= p.last_seen
                     THEN n.title_key ELSE p.title_key END,
    abstract = CASE WHEN n.listed AND n.observed_on >= p.last_seen
                    THEN n.abstract ELSE p.abstract END,
    arxiv_id = CASE WHEN n.listed AND n.observed_on >= p.last_seen
                    THEN coalesce(n.arxiv_id, p.arxiv_id) ELSE p.arxiv_id END,
    truncated = CASE WHEN n.listed AND n.observed_on >= p.last_seen
                     THEN n.truncated ELSE p.truncated END,
    authors = CASE WHEN n.listed AND n.observed_on >= p.last_seen
                   THEN coalesce(n.authors, p.authors) ELSE p.authors END,
    published_on = CASE WHEN n.listed AND n.observed_on >= p.last_seen
                        THEN coalesce(n.published_on, p.published_on) ELSE p.published_on END,
    abstract_md5 = CASE WHEN n.listed AND n.observed_on >= p.last_seen
                        THEN md5_number_lower(n.abstract) ELSE p.abstract_md5 END,
    title_head = CASE WHEN n.listed AND n.observed_on >= p.last_seen
                      THEN md5_number_lower(left(n.title_key, 12)) ELSE p.title_head END,
    title_tail = CASE WHEN n.listed AND n.observed_on >= p.last_seen
                      THEN md5_number_lower(right(n.title_key, 12)) ELSE p.title_tail END,
    first_seen = n.first_seen, last_seen = n.last_seen, n_snapshots = n.n_snapshots
WHEN NOT MATCHED THEN INSERT (
    paper_id, title, abstract, arxiv_id, truncated, authors, published_on,
    first_seen, last_seen, n_snapshots, title_key, abstract_md5, title_head, title_tail, paper_key
) VALUES (
    n.paper_id, n.title, n.abstract, n.arxiv_id, n.truncated, n.authors, n.published_on,
    n.first_seen, n.last_seen, n.n_snapshots, n.title_key, md5_number_lower(n.abstract),
    md5_number_lower(left(n.title_key, 12)), md5_number_lower(right(n.title_key, 12)),
    md5_number_lower(n.paper_id)
);

-- Corpus statistics: adjust document frequencies by the papers that gained or lost a keyphrase
-- (a paper has it after the load if another snapshot gives it or this one does).
CREATE OR REPLACE TEMP TABLE keyword_delta AS
SELECT b.keyphrase, md5_number_lower(b.keyphrase) AS keyphrase_key,
       sum((b.kept OR n.paper_id IS NOT NULL)::INTEGER - b.present::INTEGER)::INTEGER AS delta,
       min(n.display) AS display
FROM keywords_before b
LEFT JOIN new_keywords n USING (paper_id, keyphrase)
GROUP BY b.keyphrase;

-- The display form is the one of the earliest snapshot (the alphabetically first of that day's),
-- whatever order snapshots load in: it can change only for keyphrases of this snapshot that are
-- new to the corpus or first seen no earlier than this snapshot.
CREATE OR REPLACE TEMP TABLE keyword_form_changes AS
SELECT d.keyphrase, d.keyphrase_key, d.display, d.delta, s.first_seen, o.observed_on
FROM keyword_delta d
CROSS JOIN new_snapshot o
LEFT JOIN keyword_stats s USING (keyphrase_key)
WHERE d.display IS NOT NULL AND (s.first_seen IS NULL OR o.observed_on <= s.first_seen);

-- Known keyphrases whose form may change, as a constant for the UPDATE below (a join alone
-- would decode every stored keyphrase's texts; on a daily load the list is empty). Beyond
-- $id_list_max keys the variable is NULL and the join finds the rows.
SET VARIABLE form_keys = (
    SELECT CASE WHEN count(*) <= $id_list_max THEN coalesce(list(keyphrase_key), []) END
    FROM keyword_form_changes WHERE first_seen IS NOT NULL
);

UPDATE keyword_forms SET display = c.display
FROM keyword_form_changes c
WHERE keyword_forms.keyphrase_key = c.keyphrase_key
  AND coalesce(list_contains(getvariable('form_keys'), keyword_forms.keyphrase_key), true)
  AND (c.observed_on < c.first_seen OR c.display < keyword_forms.display);

INSERT INTO keyword_forms BY NAME
SELECT keyphrase, display, keyphrase_key FROM keyword_form_changes
WHERE first_seen IS NULL AND delta > 0;

-- only keyphrases present in this snapshot move the seen dates
MERGE INTO keyword_stats AS k
USING (
    SELECT d.keyphrase_key, d.delta, d.display IS NOT NULL AS listed, s.observed_on
    FROM keyword_delta d, new_snapshot s
) AS d
ON k.keyphrase_key = d.keyphrase_key
WHEN MATCHED THEN UPDATE SET
    doc_freq = k.doc_freq + d.delta,
    first_seen = CASE WHEN d.listed THEN least(k.first_seen, d.observed_on) ELSE k.first_seen END,
    last_seen = CASE WHEN d.listed THEN greatest(k.last_seen, d.observed_on) ELSE k.last_seen END
WHEN NOT MATCHED AND d.delta > 0 THEN INSERT (doc_freq, first_seen, last_seen, keyphrase_key)
VALUES (d.delta, d.observed_on, d.observed_on, d.keyphrase_key);

-- keyphrases no paper has any more
DELETE FROM keyword_forms
WHERE keyphrase_key IN (SELECT keyphrase_key FROM keyword_stats WHERE doc_freq <= 0);
DELETE FROM keyword_stats WHERE doc_freq <= 0;

DELETE FROM keyword_trends WHERE snapshot_id = $snapshot_id;
INSERT INTO keyword_trends BY NAME
SELECT k.keyphrase, $snapshot_id AS snapshot_id, s.observed_on, min(k.display) AS display,
       count(DISTINCT k.paper_id)::INTEGER AS doc_freq,
       count(DISTINCT k.paper_id) / greatest(s.n_papers, 1) AS share
FROM new_keywords k, new_snapshot s
GROUP BY k.keyphrase, s.observed_on, s.n_papers;
-- When this load replaced keyphrases, refresh_keyword_dates.sql follows; the trend statistics
-- follow in keyword_trends.sql; all in the same transaction.

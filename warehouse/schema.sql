-- paperlake warehouse schema (DuckLake on DuckDB). Applied by `pipeline.warehouse` on every
-- writer connection; every statement is idempotent. The tables are the public query surface:
-- see README.md, "Querying the warehouse".

-- One row per ingested snapshot (a raw dump); `version` is the SHA-256 of its bytes.
CREATE TABLE IF NOT EXISTS snapshots (
    snapshot_id   VARCHAR NOT NULL,
    source_name   VARCHAR NOT NULL,
    source_sha256 VARCHAR NOT NULL,
    format        VARCHAR NOT NULL,
    encoding      VARCHAR NOT NULL,
    observed_on   DATE NOT NULL,
    ingested_at   TIMESTAMPTZ NOT NULL,
    n_papers      INTEGER NOT NULL,
    version       VARCHAR NOT NULL
);

-- One row per paper across all snapshots (the latest text seen wins).
CREATE TABLE IF NOT EXISTS papers (
    paper_id      VARCHAR NOT NULL,
    title         VARCHAR NOT NULL,
    abstract      VARCHAR,
    arxiv_id      VARCHAR,
    truncated     BOOLEAN NOT NULL,
    authors       VARCHAR[],
    published_on  DATE,
    first_seen    DATE NOT NULL,
    last_seen     DATE NOT NULL,
    n_snapshots   INTEGER NOT NULL,
    title_key     VARCHAR NOT NULL, -- normalised title, used to recognise the paper again
    abstract_md5  UBIGINT,          -- md5_number_lower(abstract): an unchanged abstract is
                                    -- recognised without reading it
    title_head    UBIGINT,          -- md5_number_lower of the first and last 12 characters of
    title_tail    UBIGINT,          -- title_key: the blocks known_papers.sql joins on
    paper_key     UBIGINT NOT NULL  -- md5_number_lower(paper_id), what lookups by id use
);

-- Where each paper stood in each snapshot, with the card facts of that day.
CREATE TABLE IF NOT EXISTS listings (
    snapshot_id   VARCHAR NOT NULL,
    paper_id      VARCHAR NOT NULL,
    rank          INTEGER NOT NULL,
    upvotes       INTEGER,
    github_stars  INTEGER
);

-- Keyphrases of each paper as extracted in each snapshot. `keyphrase` is the normalised key
-- (lower-case, head noun singular); `display` is the form as first written.
CREATE TABLE IF NOT EXISTS paper_keywords (
    snapshot_id   VARCHAR NOT NULL,
    paper_id      VARCHAR NOT NULL,
    keyphrase     VARCHAR NOT NULL,
    display       VARCHAR NOT NULL,
    score         DOUBLE NOT NULL,
    rank          SMALLINT NOT NULL
);

-- Links found in each paper's title and abstract.
CREATE TABLE IF NOT EXISTS paper_links (
    snapshot_id   VARCHAR NOT NULL,
    paper_id      VARCHAR NOT NULL,
    position      SMALLINT NOT NULL,
    url           VARCHAR NOT NULL,
    url_raw       VARCHAR NOT NULL,
    host          VARCHAR NOT NULL,
    kind          VARCHAR NOT NULL,
    repo          VARCHAR,
    repo_path     VARCHAR
);

-- Corpus statistics per keyphrase: in how many distinct papers it is a keyphrase, and when it was
-- first and last seen. Query them through the `keywords` view, which adds the texts. Keyed by
-- keyphrase only (md5_number_lower(keyphrase)): every load updates the statistics of its
-- keyphrases, and an update rewrites whole rows, so text columns here would be decoded for every
-- keyphrase of the corpus on every load.
CREATE TABLE IF NOT EXISTS keyword_stats (
    doc_freq      INTEGER NOT NULL,
    first_seen    DATE NOT NULL,
    last_seen     DATE NOT NULL,
    keyphrase_key UBIGINT NOT NULL
);
-- The text of each keyphrase in keyword_stats and its display form (as its earliest snapshot wrote
-- it): added when a keyphrase first appears, changed only by a snapshot no later than the first
-- that showed it.
CREATE TABLE IF NOT EXISTS keyword_forms (
    keyphrase     VARCHAR NOT NULL,
    display       VARCHAR NOT NULL,
    keyphrase_key UBIGINT NOT NULL
);

-- The keyword time series: per snapshot, how many papers have each keyphrase, and how that
-- compares with the trailing window of earlier snapshots: the log-odds ratio with an informative
-- Dirichlet prior (Monroe et al. 2008) and its z-score (> 2: rising, < -2: falling). Keyphrases
-- that were in the window but are absent now have a row with doc_freq 0, so falling ones show.
-- Each row carries its display form, so reports show keyphrases without reading `keywords`.
CREATE TABLE IF NOT EXISTS keyword_trends (
    keyphrase        VARCHAR NOT NULL,
    snapshot_id      VARCHAR NOT NULL,
    observed_on      DATE NOT NULL,
    display          VARCHAR,           -- as the snapshot's papers wrote it (for a keyphrase
                                        -- absent from the snapshot, as its window last did)
    doc_freq         INTEGER NOT NULL,
    share            DOUBLE NOT NULL,   -- doc_freq / papers in the snapshot
    window_doc_freq  INTEGER,           -- papers with it in the trailing window
    log_odds         DOUBLE,
    z                DOUBLE             -- null without earlier snapshots or enough support
);

-- Related-paper edges: cosine similarities of TF-IDF term vectors, computed when a paper is
-- first indexed (its own best neighbours, and the known papers whose lists it enters). Edges are
-- only added: the related_papers view ranks them and keeps each paper's best. `shared_terms`
-- is the evidence, strongest first.
CREATE TABLE IF NOT EXISTS related_edges (
    paper_id      VARCHAR NOT NULL,
    related_id    VARCHAR NOT NULL,
    score         DOUBLE NOT NULL,
    shared_terms  VARCHAR[] NOT NULL,
    snapshot_id   VARCHAR NOT NULL,  -- the snapshot whose load computed this edge
    paper_key     UBIGINT NOT NULL   -- md5_number_lower(paper_id), what lookups by paper use
);

-- The term index behind related_edges: each indexed paper's strongest terms (L2-normalised
-- TF-IDF weights), document frequencies of every term seen, and the number of indexed papers.
CREATE TABLE IF NOT EXISTS paper_terms (
    paper_id      VARCHAR NOT NULL,
    term          VARCHAR NOT NULL,
    display       VARCHAR NOT NULL,
    weight        DOUBLE NOT NULL,
    snapshot_id   VARCHAR NOT NULL,
    term_key      UBIGINT NOT NULL,  -- md5_number_lower(term), what joins use
    paper_key     UBIGINT NOT NULL   -- md5_number_lower(paper_id), likewise
);
-- Keyed by term only (md5_number_lower(term)): every indexed chunk updates the counts of its
-- terms, and an update rewrites whole rows, so a term text column would be read for every term
-- of the index each time. The texts of the terms that link papers are in paper_terms.
CREATE TABLE IF NOT EXISTS term_stats (
    doc_freq      INTEGER NOT NULL,
    term_key      UBIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS indexed_papers (
    paper_id      VARCHAR NOT NULL,
    snapshot_id   VARCHAR NOT NULL,
    top_scores    DOUBLE[] NOT NULL, -- its best stored edges' scores, best first (at most 10)
    paper_key     UBIGINT NOT NULL,  -- md5_number_lower(paper_id), what joins use
    last_score    DOUBLE             -- top_scores[10], NULL while the list is not full: what a
                                     -- newcomer must beat, read without decoding the lists
);

-- Lineage of every stored artifact version (raw dumps, Parquet tables, reports): which content
-- (`version`, the SHA-256 of its bytes), made by which code version, from which upstream
-- versions. Mirrors the artifact store's manifests; `is_current` marks what is in use.
CREATE TABLE IF NOT EXISTS artifact_versions (
    artifact      VARCHAR NOT NULL,
    partition     VARCHAR NOT NULL,
    version       VARCHAR NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    code_version  VARCHAR NOT NULL,
    upstream      MAP(VARCHAR, VARCHAR) NOT NULL,
    rows          BIGINT,
    path          VARCHAR NOT NULL,
    is_current    BOOLEAN NOT NULL
);

-- Every fetch of a configured source for a day: new (a listing landed), unchanged (304 or the
-- same bytes), empty (nothing listed that day) or failed, with what happened.
CREATE TABLE IF NOT EXISTS fetches (
    source        VARCHAR NOT NULL,
    day           DATE NOT NULL,
    status        VARCHAR NOT NULL,
    message       VARCHAR NOT NULL,
    requests      INTEGER NOT NULL,
    landed_file   VARCHAR,
    fetched_at    TIMESTAMPTZ NOT NULL
);

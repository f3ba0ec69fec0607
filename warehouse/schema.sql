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
    n_snapshots   INTEGER NOT NULL
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

-- Corpus statistics per keyphrase: in how many distinct papers it is a keyphrase.
CREATE TABLE IF NOT EXISTS keywords (
    keyphrase     VARCHAR NOT NULL,
    display       VARCHAR NOT NULL,
    doc_freq      INTEGER NOT NULL,
    first_seen    DATE NOT NULL,
    last_seen     DATE NOT NULL
);

-- Per-snapshot keyphrase counts: the keyword time series.
CREATE TABLE IF NOT EXISTS keyword_trends (
    keyphrase     VARCHAR NOT NULL,
    snapshot_id   VARCHAR NOT NULL,
    observed_on   DATE NOT NULL,
    doc_freq      INTEGER NOT NULL,
    share         DOUBLE NOT NULL
);

-- Known papers an incoming snapshot's papers might be: the same id, the same arXiv id, or a
-- title sharing its first or last 12 characters (a typo fix changes only one end). Input:
-- incoming(paper_id, arxiv_id, title_key, abstract). Equi-joins on narrow key columns only, so
-- each is a hash join that decodes no text; whether a stored abstract equals the incoming one
-- is told by its MD5 (each incoming abstract hashed once, not once per candidate), and the few
-- that differ are read by the caller. The stored keys are read once (`keyed`, a CTE DuckDB
-- materializes) for all four joins.
WITH keyed AS (
    SELECT paper_id, arxiv_id, title_key, abstract_md5,
           left(title_key, 12) AS head, right(title_key, 12) AS tail
    FROM papers
),
candidates AS (
    SELECT i.paper_id AS incoming_id, p.* FROM incoming i JOIN keyed p ON p.paper_id = i.paper_id
    UNION
    SELECT i.paper_id, p.* FROM incoming i JOIN keyed p ON p.arxiv_id = i.arxiv_id
    UNION
    SELECT i.paper_id, p.* FROM incoming i JOIN keyed p ON p.head = left(i.title_key, 12)
    UNION
    SELECT i.paper_id, p.* FROM incoming i JOIN keyed p ON p.tail = right(i.title_key, 12)
)
SELECT c.incoming_id, c.paper_id, c.arxiv_id, c.title_key,
       c.abstract_md5 = i.abstract_md5 AS same_abstract
FROM candidates c
JOIN (SELECT paper_id, md5_number_lower(abstract) AS abstract_md5 FROM incoming) i
  ON i.paper_id = c.incoming_id

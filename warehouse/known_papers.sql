-- Known papers an incoming snapshot's papers might be: the same id, the same arXiv id, or a
-- title sharing its first or last 12 characters (a typo fix changes only one end). Input:
-- incoming(paper_id, arxiv_id, title_key, abstract). Parameter: $title_similarity (see
-- identity.could_be).
-- Equi-joins on narrow key columns only, so each is a hash join that decodes no text: the title
-- blocks are the 64-bit keys stored beside each paper (title_head, title_tail), not substrings
-- cut from a million stored titles. The stored keys are read once (`keyed`, a CTE DuckDB
-- materializes) for all four joins. Whether a stored abstract equals the incoming one is told by
-- its MD5 (each incoming abstract hashed once); the few that differ are read by the caller.
-- A title block candidate is returned only if its length allows the similarity could_be asks
-- for: fuzz.ratio is 200 * (common subsequence) / (sum of lengths), at most 200 * (shorter
-- length) / (sum of lengths).
WITH keyed AS (
    SELECT paper_id, arxiv_id, title_key, abstract_md5, title_head, title_tail FROM papers
),
incoming_keys AS (
    SELECT paper_id, arxiv_id, length(title_key) AS title_length,
           md5_number_lower(abstract) AS abstract_md5,
           md5_number_lower(left(title_key, 12)) AS title_head,
           md5_number_lower(right(title_key, 12)) AS title_tail
    FROM incoming
),
candidates AS (
    SELECT i.paper_id AS incoming_id, p.* FROM incoming_keys i JOIN keyed p USING (paper_id)
    UNION
    SELECT i.paper_id, p.* FROM incoming_keys i JOIN keyed p USING (arxiv_id)
    UNION
    SELECT i.paper_id, p.* FROM incoming_keys i JOIN keyed p USING (title_head)
    UNION
    SELECT i.paper_id, p.* FROM incoming_keys i JOIN keyed p USING (title_tail)
)
SELECT c.incoming_id, c.paper_id, c.arxiv_id, c.title_key,
       c.abstract_md5 = i.abstract_md5 AS same_abstract
FROM candidates c
JOIN incoming_keys i ON i.paper_id = c.incoming_id
WHERE c.paper_id = i.paper_id
   OR c.arxiv_id = i.arxiv_id
   OR 200 * least(length(c.title_key), i.title_length)
      >= $title_similarity * (length(c.title_key) + i.title_length)

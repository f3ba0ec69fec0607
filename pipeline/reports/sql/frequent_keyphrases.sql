-- The keys of the corpus's $top most frequent keyphrases and of any tied with the last of them
-- (trend_series.sql chooses among ties by text). Parameter: $top. Only the counts are read.
SELECT keyphrase_key FROM keyword_stats
WHERE doc_freq >= (
    SELECT min(doc_freq) FROM (SELECT doc_freq FROM keyword_stats ORDER BY doc_freq DESC LIMIT $top)
)

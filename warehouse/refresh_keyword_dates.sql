-- Run by pipeline.warehouse.load_snapshot after load_snapshot.sql, in its transaction, when
-- the load replaced a version that had keyphrases (its replaced_keywords table has rows).
-- The version being replaced may have been the first or the last to show a keyphrase, or the
-- one whose display form was kept: such keyphrases are read again from the snapshots that have
-- them.
CREATE OR REPLACE TEMP TABLE refreshed_keywords AS
SELECT md5_number_lower(k.keyphrase) AS keyphrase_key,
       arg_min(k.display, (s.observed_on, k.display)) AS display,
       min(s.observed_on) AS first_seen,
       max(s.observed_on) AS last_seen
FROM paper_keywords k JOIN snapshots s USING (snapshot_id)
WHERE k.keyphrase IN (
    SELECT r.keyphrase FROM replaced_keywords r
    JOIN keyword_stats w ON w.keyphrase_key = md5_number_lower(r.keyphrase)
    CROSS JOIN new_snapshot n
    WHERE n.observed_on IN (w.first_seen, w.last_seen)
)
GROUP BY k.keyphrase;

UPDATE keyword_stats SET first_seen = r.first_seen, last_seen = r.last_seen
FROM refreshed_keywords r
WHERE keyword_stats.keyphrase_key = r.keyphrase_key;

UPDATE keyword_forms SET display = r.display
FROM refreshed_keywords r
WHERE keyword_forms.keyphrase_key = r.keyphrase_key;

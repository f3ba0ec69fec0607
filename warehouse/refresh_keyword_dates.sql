-- Run by pipeline.warehouse.load_snapshot after load_snapshot.sql, in its transaction, when
-- the load replaced a version that had keyphrases (its replaced_keywords table has rows).
-- The version being replaced may have been the first or the last to show a keyphrase, or the
-- one whose display form was kept: such keyphrases are read again from the snapshots that have
-- them.
UPDATE keywords SET display = r.display, first_seen = r.first_seen, last_seen = r.last_seen
FROM (
    SELECT k.keyphrase,
           arg_min(k.display, (s.observed_on, k.display)) AS display,
           min(s.observed_on) AS first_seen,
           max(s.observed_on) AS last_seen
    FROM paper_keywords k JOIN snapshots s USING (snapshot_id)
    WHERE k.keyphrase IN (
        SELECT w.keyphrase FROM keywords w
        JOIN replaced_keywords USING (keyphrase)
        CROSS JOIN new_snapshot n
        WHERE n.observed_on IN (w.first_seen, w.last_seen)
    )
    GROUP BY k.keyphrase
) r
WHERE keywords.keyphrase = r.keyphrase;

-- Fetches after a snapshot's day that brought nothing new (unchanged or empty listings), latest
-- first: the digest says so instead of repeating itself. Parameter: $snapshot_id.
SELECT f.day, f.source, f.status
FROM fetches f, snapshots s
WHERE s.snapshot_id = $snapshot_id AND f.day > s.observed_on AND f.status IN ('unchanged', 'empty')
ORDER BY f.day DESC, f.source

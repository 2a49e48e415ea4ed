-- Per strategy, for the newest run in a harness database:
--   sqlite3 -header -column harness.db < reports/summary.sql
-- builds, failed builds, step hit rate, simulated minutes (pull, build and
-- push), GB pulled,
-- pushed and stored after the last build.
WITH run AS (SELECT max(id) AS id FROM runs),
last AS (
  SELECT strategy, registry_bytes, cache_bytes,
         row_number() OVER (PARTITION BY strategy ORDER BY seq DESC) AS n
  FROM builds WHERE run_id = (SELECT id FROM run)
)
SELECT b.strategy,
       count(*) AS builds,
       sum(b.status = 'failed') AS failed,
       round(100.0 * sum(b.steps_hit) / max(1, sum(b.steps_hit + b.steps_miss)), 1) AS hit_pct,
       round(sum(b.seconds + b.pull_seconds + b.push_seconds) / 60.0, 1) AS minutes,
       round(sum(b.bytes_pulled) / 1e9, 3) AS gb_pulled,
       round(sum(b.bytes_pushed) / 1e9, 3) AS gb_pushed,
       round((max(l.registry_bytes) + max(l.cache_bytes)) / 1e9, 3) AS gb_stored
FROM builds b
JOIN last l ON l.strategy = b.strategy AND l.n = 1
WHERE b.run_id = (SELECT id FROM run)
GROUP BY b.strategy
ORDER BY min(b.id);

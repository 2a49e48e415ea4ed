-- Why steps miss, per strategy, for the newest run in a harness database:
--   sqlite3 -header -column harness.db < reports/misses.sql
-- The reasons are harness explain's words ("src/app.py changed",
-- "follows a miss at line 5", ...); file names are folded into the
-- first word so that "x.py changed" and "y.py changed" count together.
WITH run AS (SELECT max(id) AS id FROM runs)
SELECT b.strategy, s.instruction,
       CASE WHEN s.reason LIKE '% changed' AND s.reason NOT LIKE '% %% changed'
            THEN 'a copied file changed'
            WHEN s.reason LIKE 'follows a miss at line %' THEN 'follows a miss'
            ELSE s.reason END AS why,
       count(*) AS steps,
       round(sum(s.seconds) / 60.0, 1) AS minutes
FROM steps s JOIN builds b ON b.id = s.build_id
WHERE b.run_id = (SELECT id FROM run) AND s.outcome = 'miss'
GROUP BY 1, 2, 3
ORDER BY minutes DESC
LIMIT 30;

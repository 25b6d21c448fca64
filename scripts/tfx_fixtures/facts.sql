-- Hand checks of a TFX fixture store, run with the sqlite3 shell (never with graphlets code):
--   sqlite3 -readonly -header tests/fixtures/tfx/churn.sqlite < scripts/tfx_fixtures/facts.sql
-- MLMD codes: Execution.last_known_state 3 COMPLETE, 4 FAILED, 5 CACHED;
--             Event.type 3 INPUT, 4 OUTPUT, 6 INTERNAL_OUTPUT (resolvers).

.print '== rows (store stats)'
SELECT (SELECT count(*) FROM Artifact) AS artifacts, (SELECT count(*) FROM Execution) AS executions,
       (SELECT count(*) FROM Event) AS events, (SELECT count(*) FROM Context) AS contexts;

.print '== executions by state'
SELECT last_known_state, count(*) FROM Execution GROUP BY last_known_state;

.print '== runs (pipeline_run contexts)'
SELECT count(*) AS runs FROM Context c JOIN Type t ON t.id = c.type_id WHERE t.name = 'pipeline_run';

.print '== every execution that touches a Model artifact on its output side'
SELECT e.id, replace(et.name, 'tfx.components.', '') AS type, e.last_known_state AS state,
       ev.type AS event, a.id AS model,
       (SELECT count(*) FROM Event o WHERE o.artifact_id = a.id AND o.type IN (4, 6)
          AND o.id < ev.id) AS earlier_outputs
FROM Execution e JOIN Type et ON et.id = e.type_id
JOIN Event ev ON ev.execution_id = e.id AND ev.type IN (4, 6)
JOIN Artifact a ON a.id = ev.artifact_id JOIN Type at ON at.id = a.type_id
WHERE at.name = 'Model' ORDER BY e.id;

.print '== trainings: COMPLETE Trainer with an OUTPUT to a Model no earlier event output'
SELECT e.id AS trainer_execution, a.id AS model_artifact
FROM Execution e JOIN Type et ON et.id = e.type_id
JOIN Event ev ON ev.execution_id = e.id AND ev.type = 4
JOIN Artifact a ON a.id = ev.artifact_id JOIN Type at ON at.id = a.type_id
WHERE et.name LIKE '%.Trainer' AND at.name = 'Model' AND e.last_known_state = 3
  AND NOT EXISTS (SELECT 1 FROM Event o WHERE o.artifact_id = a.id AND o.type IN (4, 6)
                    AND o.id < ev.id)
ORDER BY e.id;

.print '== input spans of each Trainer execution (Examples it read)'
SELECT e.id AS trainer_execution, e.last_known_state AS state,
       group_concat(sp.int_value, ',') AS spans
FROM Execution e JOIN Type et ON et.id = e.type_id
JOIN Event ev ON ev.execution_id = e.id AND ev.type = 3
JOIN Artifact a ON a.id = ev.artifact_id JOIN Type at ON at.id = a.type_id AND at.name = 'Examples'
JOIN ArtifactProperty sp ON sp.artifact_id = a.id AND sp.name = 'span'
WHERE et.name LIKE '%.Trainer' GROUP BY e.id ORDER BY e.id;

.print '== per model: who consumed it, under which key (Evaluator blessing, Pusher verdict)'
SELECT a.id AS model, x.id AS consumer, replace(xt.name, 'tfx.components.', '') AS type,
       x.last_known_state AS state, p.step_key AS input_key,
       (SELECT group_concat(o.artifact_id || ':' || ot.name || ':' ||
                 coalesce((SELECT int_value FROM ArtifactProperty q WHERE q.artifact_id = o.artifact_id
                            AND q.name IN ('blessed', 'pushed')), '-'), ' ')
          FROM Event o JOIN Artifact oa ON oa.id = o.artifact_id JOIN Type ot ON ot.id = oa.type_id
         WHERE o.execution_id = x.id AND o.type = 4) AS outputs_with_verdict
FROM Artifact a JOIN Type at ON at.id = a.type_id AND at.name = 'Model'
JOIN Event ev ON ev.artifact_id = a.id AND ev.type = 3
JOIN EventPath p ON p.event_id = ev.id AND p.is_index_step = 0
JOIN Execution x ON x.id = ev.execution_id JOIN Type xt ON xt.id = x.type_id
ORDER BY a.id, x.id;

.print '== pushes: PushedModel artifacts and their pushed property'
SELECT a.id AS pushed_model, a.state, q.int_value AS pushed,
       (SELECT ev.execution_id FROM Event ev WHERE ev.artifact_id = a.id AND ev.type = 4) AS pusher
FROM Artifact a JOIN Type t ON t.id = a.type_id AND t.name = 'PushedModel'
LEFT JOIN ArtifactProperty q ON q.artifact_id = a.id AND q.name = 'pushed' ORDER BY a.id;

.print '== cached executions'
SELECT e.id, replace(t.name, 'tfx.components.', '') AS type FROM Execution e
JOIN Type t ON t.id = e.type_id WHERE e.last_known_state = 5 ORDER BY e.id;

.print '== failed executions'
SELECT e.id, t.name FROM Execution e JOIN Type t ON t.id = e.type_id
WHERE e.last_known_state = 4 ORDER BY e.id;

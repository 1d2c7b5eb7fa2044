-- An incident's alerts, in id order: the replicas' sync and the open-
-- incident view read each incident's first alert (MIN(id) of its
-- alerts). With an index on incident_id alone, PostgreSQL without fresh
-- statistics (a new database in its first storm) planned that as a walk
-- of the whole alerts table in id order per incident: one sync of 3,000
-- changed incidents took 33 s of the server's CPU. With (incident_id, id)
-- the first alert is one index entry whatever the statistics say; it
-- serves every lookup by incident_id too, so it replaces that index.

CREATE INDEX alerts_incident_first ON alerts (incident_id, id);
DROP INDEX alerts_incident;

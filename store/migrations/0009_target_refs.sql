-- What a target's service calls the incident (a status page incident
-- id), for its later messages.

CREATE TABLE target_refs (
	incident_id BIGINT NOT NULL REFERENCES incidents (id),
	target      TEXT   NOT NULL,
	ref         TEXT   NOT NULL,
	PRIMARY KEY (incident_id, target)
);

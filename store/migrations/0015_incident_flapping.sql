-- An incident that keeps reopening is marked flapping (1).

ALTER TABLE incidents ADD COLUMN flapping INTEGER NOT NULL DEFAULT 0;

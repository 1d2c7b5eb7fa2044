-- Due escalation steps are looked for on every engine pass: without an
-- index of their own, the look walked every pending delivery due (the
-- jobs_due index holds both kinds) and read each row to skip it, which
-- an incident storm's backlog of pages made the gateway's costliest query.
-- kind and state lead although the WHERE fixes them, so that SQLite's
-- planner, which has no statistics, prefers it to jobs_due.

CREATE INDEX jobs_pending_step ON jobs (kind, state, due_at, id) WHERE state = 'pending' AND kind = 'step';

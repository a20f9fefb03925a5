-- Leases for the scheduled rules (internal/jobs): when several app nodes
-- share one database, the node holding a rule's lease is the only one that
-- runs it.

-- +goose Up
CREATE TABLE job_leases (
    name        TEXT PRIMARY KEY,           -- the rule
    holder      TEXT NOT NULL,              -- the scheduler (node) that ran it last or runs it now
    until       TIMESTAMP NOT NULL,     -- held until then: while running, a renewed deadline; after a run, the next due time
    last_run_at TIMESTAMP,
    last_error  TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE job_leases;

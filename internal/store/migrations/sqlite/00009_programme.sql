-- The Zero-Waste City programme: the plan's task list (任务清单) with the
-- departments it names, milestones and progress reports with their evidence;
-- and the zero-waste cells (无废细胞) with their types, checklists and scores.
-- Calendar dates (deadlines, due dates, report dates) are TEXT YYYY-MM-DD in
-- China; instants are TIMESTAMP in UTC.

-- +goose Up
CREATE TABLE tasks (
    id              TEXT PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE,        -- 二(一)1 … 二(六)4, 三(一) … 三(三)
    kind            TEXT NOT NULL,               -- task | safeguard
    group_code      TEXT NOT NULL,               -- 二(一) … 二(六), 三
    group_title     TEXT NOT NULL,
    number          INTEGER NOT NULL,
    position        INTEGER NOT NULL,            -- order in the plan
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,               -- what the task asks, as the plan words it
    lead_text       TEXT NOT NULL,               -- 责任单位 as the text names them
    supporting_text TEXT NOT NULL DEFAULT '',    -- 配合单位 as the text names them
    target          TEXT NOT NULL DEFAULT '',    -- the target the task carries, as worded
    deadline        TEXT NOT NULL,               -- YYYY-MM-DD
    region_code     TEXT NOT NULL REFERENCES regions(code),
    progress        INTEGER NOT NULL DEFAULT 0,  -- percent of the latest accepted report
    progress_date   TEXT NOT NULL DEFAULT '',    -- that report's date
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX tasks_position ON tasks (position);

-- The departments a task binds, in the text's order, resolved to registry
-- departments where one matches ('' where none does, e.g. 产废企业).
CREATE TABLE task_departments (
    task_id         TEXT NOT NULL REFERENCES tasks(id),
    role            TEXT NOT NULL,               -- lead | supporting | local
    position        INTEGER NOT NULL,
    name            TEXT NOT NULL,
    department_code TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (task_id, role, position)
);
CREATE INDEX task_departments_code ON task_departments (department_code, task_id);

CREATE TABLE task_milestones (
    id              TEXT PRIMARY KEY,
    task_id         TEXT NOT NULL REFERENCES tasks(id),
    department_code TEXT NOT NULL,
    title           TEXT NOT NULL,
    due_date        TEXT NOT NULL,               -- YYYY-MM-DD
    status          TEXT NOT NULL,               -- open | done
    note            TEXT NOT NULL DEFAULT '',
    done_at         TIMESTAMP,
    created_by      TEXT NOT NULL,
    region_code     TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX task_milestones_task ON task_milestones (task_id, due_date);
CREATE INDEX task_milestones_due ON task_milestones (status, due_date);

CREATE TABLE task_reports (
    id              TEXT PRIMARY KEY,
    task_id         TEXT NOT NULL REFERENCES tasks(id),
    department_code TEXT NOT NULL,
    period          TEXT NOT NULL,               -- 2026Q3, or 2026-09 when departments report monthly
    percent         INTEGER NOT NULL,
    text            TEXT NOT NULL,
    report_date     TEXT NOT NULL,               -- YYYY-MM-DD: the day the progress stands at
    status          TEXT NOT NULL,               -- submitted | accepted | returned
    review_note     TEXT NOT NULL DEFAULT '',
    submitted_by    TEXT NOT NULL,
    reviewed_by     TEXT NOT NULL DEFAULT '',
    reviewed_at     TIMESTAMP,
    region_code     TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX task_reports_task ON task_reports (task_id, created_at);
CREATE INDEX task_reports_period ON task_reports (period, department_code, task_id);

CREATE TABLE task_evidence (
    id           TEXT PRIMARY KEY,
    report_id    TEXT NOT NULL REFERENCES task_reports(id),
    position     INTEGER NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,               -- hex
    data         BLOB NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX task_evidence_report ON task_evidence (report_id, position);

-- Cell types and their checklists are data the work team edits.
CREATE TABLE cell_types (
    code                 TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    lead_department_code TEXT NOT NULL DEFAULT '',
    pass_mark            REAL NOT NULL,       -- of 100
    position             INTEGER NOT NULL,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    version              INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE cell_criteria (
    type_code   TEXT NOT NULL REFERENCES cell_types(code),
    code        TEXT NOT NULL,
    position    INTEGER NOT NULL,
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    weight      REAL NOT NULL,                -- the type's weights add up to 100
    max_score   REAL NOT NULL,
    PRIMARY KEY (type_code, code)
);

CREATE TABLE cells (
    id              TEXT PRIMARY KEY,
    type            TEXT NOT NULL REFERENCES cell_types(code),
    name            TEXT NOT NULL,
    unit_id         TEXT NOT NULL REFERENCES units(id),
    region_code     TEXT NOT NULL REFERENCES regions(code),
    park_code       TEXT REFERENCES regions(code),
    address         TEXT NOT NULL DEFAULT '',
    description     TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL,            -- applied | scored | certified | returned | withdrawn
    score           REAL,                     -- weighted total of 100
    reason          TEXT NOT NULL DEFAULT '', -- why it was returned or withdrawn
    applied_at      TIMESTAMP NOT NULL,
    scored_at       TIMESTAMP,
    certified_at    TIMESTAMP,                -- the certificate date, kept as its UTC midnight
    withdrawn_at    TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX cells_region ON cells (region_code, status, certified_at);
CREATE INDEX cells_park ON cells (park_code, status, certified_at);
CREATE INDEX cells_unit ON cells (unit_id, id);
CREATE INDEX cells_status ON cells (status, id);

CREATE TABLE cell_scores (
    cell_id        TEXT NOT NULL REFERENCES cells(id),
    criterion_code TEXT NOT NULL,
    score          REAL NOT NULL,
    note           TEXT NOT NULL DEFAULT '',
    scored_by      TEXT NOT NULL,
    scored_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (cell_id, criterion_code)
);

-- +goose Down
DROP TABLE cell_scores;
DROP TABLE cells;
DROP TABLE cell_criteria;
DROP TABLE cell_types;
DROP TABLE task_evidence;
DROP TABLE task_reports;
DROP TABLE task_milestones;
DROP TABLE task_departments;
DROP TABLE tasks;

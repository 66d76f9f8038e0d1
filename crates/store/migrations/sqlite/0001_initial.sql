-- xiaoan initial schema (SQLite).
--
-- Conventions:
--   * Times are TEXT in RFC 3339 UTC with nine fractional digits and a 'Z'
--     ("2024-05-01T08:30:00.123456789Z"): fixed width, so text order is time order, and lossless.
--   * Enums are TEXT in the core crate's `as_str` form, guarded by CHECK constraints.
--   * Booleans are INTEGER 0/1.
--   * Directory ids are given by the seed (INTEGER PRIMARY KEY); incidents and timeline entries
--     get theirs from AUTOINCREMENT so an id is never reused, even after a delete.

-- Education-bureau areas and police jurisdictions.
CREATE TABLE regions (
    id    INTEGER PRIMARY KEY,
    kind  TEXT NOT NULL CHECK (kind IN ('bureau', 'police')),
    name  TEXT NOT NULL,
    code  TEXT,
    phone TEXT
);

-- Schools and kindergartens. Coordinates are WGS-84 degrees.
CREATE TABLE schools (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    address          TEXT NOT NULL,
    lat              REAL NOT NULL,
    lon              REAL NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('kindergarten', 'primary', 'middle')),
    pupils           INTEGER NOT NULL,
    boarders         INTEGER NOT NULL,
    bureau_region_id INTEGER NOT NULL REFERENCES regions (id),
    police_region_id INTEGER NOT NULL REFERENCES regions (id)
);
CREATE INDEX schools_by_bureau ON schools (bureau_region_id);
CREATE INDEX schools_by_police ON schools (police_region_id);

-- Places inside a school where an alarm can be raised.
CREATE TABLE alarm_points (
    id        INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES schools (id),
    name      TEXT NOT NULL,
    location  TEXT NOT NULL,
    one_key   INTEGER NOT NULL CHECK (one_key IN (0, 1))
);
CREATE INDEX alarm_points_by_school ON alarm_points (school_id);

-- Installed devices; external_id is the protocol identity (DC-09 account, GB/T 28181 id).
CREATE TABLE devices (
    id             INTEGER PRIMARY KEY,
    school_id      INTEGER NOT NULL REFERENCES schools (id),
    alarm_point_id INTEGER REFERENCES alarm_points (id),
    kind           TEXT NOT NULL,
    name           TEXT NOT NULL,
    external_id    TEXT
);
CREATE INDEX devices_by_school ON devices (school_id);
CREATE INDEX devices_by_external_id ON devices (external_id) WHERE external_id IS NOT NULL;

-- Responsible people of a school (not necessarily users).
CREATE TABLE people (
    id        INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES schools (id),
    role      TEXT NOT NULL,
    name      TEXT NOT NULL,
    phone     TEXT NOT NULL
);
CREATE INDEX people_by_school ON people (school_id);

-- Users who log in. password_hash is a PHC string (argon2id); it never leaves the store except
-- through `user_by_username` for verification.
CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    username            TEXT NOT NULL UNIQUE,
    display_name        TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN (
                            'police_operator', 'police_supervisor', 'police_officer',
                            'school_guard', 'school_admin', 'bureau_inspector',
                            'bureau_admin', 'sysadmin')),
    phone               TEXT,
    password_hash       TEXT NOT NULL,
    disabled            INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    post_alarm_point_id INTEGER REFERENCES alarm_points (id)
);

-- What each user may see, in the order given (position keeps Vec<Scope> order).
CREATE TABLE user_scopes (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('police_area', 'bureau_region', 'school')),
    target_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, position)
);

-- Login sessions. Only the token's hash is stored.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Incidents: one emergency at one alarm point. Actors are denormalized (user id, name and role
-- as they were at the time) so history does not change when a user is renamed.
CREATE TABLE incidents (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    school_id              INTEGER NOT NULL REFERENCES schools (id),
    alarm_point_id         INTEGER NOT NULL REFERENCES alarm_points (id),
    state                  TEXT NOT NULL CHECK (state IN (
                               'received', 'claimed', 'dispatched', 'on_scene',
                               'resolved', 'closed')),
    priority               INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 4),
    kind                   TEXT NOT NULL,
    source                 TEXT NOT NULL,
    silent                 INTEGER NOT NULL CHECK (silent IN (0, 1)),
    note                   TEXT,
    raised_by_user_id      INTEGER,
    raised_by_name         TEXT NOT NULL,
    raised_by_role         TEXT,
    raised_at              TEXT NOT NULL,
    received_at            TEXT NOT NULL,
    claimed_by_user_id     INTEGER,
    claimed_by_name        TEXT,
    claimed_by_role        TEXT,
    claimed_at             TEXT,
    -- JSON array of {unit, officer_user_id, officer_name, at}, oldest first.
    dispatches             TEXT NOT NULL DEFAULT '[]',
    on_scene_at            TEXT,
    escalated_at           TEXT,
    disposition            TEXT CHECK (disposition IS NULL OR disposition IN (
                               'genuine', 'false_alarm', 'test', 'malicious', 'other')),
    resolution_note        TEXT,
    resolved_at            TEXT,
    closed_at              TEXT,
    press_count            INTEGER NOT NULL CHECK (press_count >= 1),
    accidental_reported_at TEXT,
    updated_at             TEXT NOT NULL
);
-- At most one open incident per alarm point: the look-up raise_alarm does, and a guard against
-- a second incident for the same press should anything ever bypass the single writer.
CREATE UNIQUE INDEX incidents_open_per_point ON incidents (alarm_point_id)
    WHERE state IN ('received', 'claimed', 'dispatched', 'on_scene');
CREATE INDEX incidents_by_school_state ON incidents (school_id, state, received_at);
CREATE INDEX incidents_by_state ON incidents (state, received_at);
CREATE INDEX incidents_by_received ON incidents (received_at, id);

-- Timeline entries: the global event log. The id (INTEGER PRIMARY KEY, i.e. the rowid, so
-- "events after id N" is a range scan of the table itself) is the sequence number the live event
-- stream resumes from; AUTOINCREMENT guarantees it only ever grows.
CREATE TABLE timeline_entries (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id   INTEGER NOT NULL REFERENCES incidents (id),
    at            TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN (
                      'raised', 'received', 'joined', 'escalated', 'claimed', 'dispatched',
                      'arrived', 'resolved', 'closed', 'accidental_reported', 'note')),
    actor_user_id INTEGER,
    actor_name    TEXT NOT NULL,
    actor_role    TEXT,
    note          TEXT,
    -- Structured details as JSON (null when none).
    data          TEXT NOT NULL DEFAULT 'null'
);
CREATE INDEX timeline_by_incident ON timeline_entries (incident_id, id);

-- Idempotency keys: a repeated (principal, key) gets the first answer back and writes nothing.
-- entry_ids is the JSON array of the timeline entry ids that first answer wrote.
CREATE TABLE idempotency_keys (
    principal   TEXT NOT NULL,
    key         TEXT NOT NULL,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    joined      INTEGER NOT NULL CHECK (joined IN (0, 1)),
    entry_ids   TEXT NOT NULL DEFAULT '[]',
    created_at  TEXT NOT NULL,
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_by_created ON idempotency_keys (created_at);

-- The audit trail: who did what to which object, one row per action, append-only and linked by a
-- SHA-256 hash chain (docs/design/audit.md defines `hash` byte by byte; `xiaoan audit verify`
-- recomputes it). `seq` numbers the rows 1, 2, 3, ... without gaps; the first row's `prev_hash`
-- is 64 zeros. Times are RFC 3339 text with milliseconds, UTC; `detail` is JSON text.

CREATE TABLE audit_log (
    seq           INTEGER PRIMARY KEY,
    at            TEXT    NOT NULL,
    actor_user_id INTEGER,
    actor_name    TEXT    NOT NULL,
    actor_role    TEXT,
    action        TEXT    NOT NULL,
    object_kind   TEXT    NOT NULL,
    object_id     TEXT,
    incident_id   INTEGER,
    school_id     INTEGER,
    detail        TEXT    NOT NULL,
    prev_hash     TEXT    NOT NULL,
    hash          TEXT    NOT NULL
);
CREATE INDEX audit_log_by_incident ON audit_log (incident_id, seq) WHERE incident_id IS NOT NULL;

-- Append-only against mistakes: no row is changed or removed through SQL. (Someone with the file
-- can drop these triggers; the hash chain is what catches that.)
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- A new row continues the chain: the next number, linked to the last row's hash.
CREATE TRIGGER audit_log_append_only BEFORE INSERT ON audit_log
WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_log)
  OR NEW.prev_hash IS NOT COALESCE(
        (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1),
        '0000000000000000000000000000000000000000000000000000000000000000')
BEGIN
    SELECT RAISE(ABORT, 'audit_log rows must continue the chain');
END;

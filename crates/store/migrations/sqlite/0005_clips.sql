-- Incident clips (the video from before to after a press, per camera linked to the alarm point)
-- and the spans of footage protected from retention because an incident needs them.
-- Times are Unix milliseconds (UTC) for the video window, RFC 3339 text for bookkeeping.

CREATE TABLE clips (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    camera_id   TEXT    NOT NULL,
    path        TEXT    NOT NULL,
    press_at_ms INTEGER NOT NULL,
    start_ms    INTEGER NOT NULL,
    end_ms      INTEGER NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('recording', 'complete', 'unavailable')),
    reason      TEXT,
    bytes       INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT    NOT NULL
);
CREATE INDEX clips_by_incident ON clips (incident_id);
CREATE INDEX clips_by_state ON clips (state);

-- Retention keeps continuous footage overlapping an unreleased span, and for a grace period
-- after its release. Rows may also be written by other tools (no foreign key on the incident,
-- a default creation time).
CREATE TABLE protected_spans (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    camera_id   TEXT    NOT NULL,
    start_ms    INTEGER NOT NULL,
    end_ms      INTEGER NOT NULL,
    incident_id INTEGER NOT NULL,
    clip_id     INTEGER REFERENCES clips(id),
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    released_at TEXT,
    released_by TEXT
);
CREATE INDEX protected_spans_by_camera ON protected_spans (camera_id, start_ms);
CREATE INDEX protected_spans_by_clip ON protected_spans (clip_id);

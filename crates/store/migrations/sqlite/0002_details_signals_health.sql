-- Source details on incidents (DC-09 account and decoded event, GB/T 28181 device, ...),
-- the device signal log and device health.

ALTER TABLE incidents ADD COLUMN details TEXT NOT NULL DEFAULT 'null';

-- Everything a device reports that is not an emergency, and what the receiver notices about
-- devices (unregistered accounts, unauthenticated frames, lost communication). Append-only.
CREATE TABLE signals (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             TEXT    NOT NULL,
    school_id      INTEGER REFERENCES schools(id),
    alarm_point_id INTEGER REFERENCES alarm_points(id),
    source         TEXT    NOT NULL,
    device         TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    severity       TEXT    NOT NULL CHECK (severity IN ('info', 'warning', 'alert')),
    summary        TEXT    NOT NULL,
    data           TEXT    NOT NULL DEFAULT 'null'
);
CREATE INDEX signals_by_school ON signals (school_id, id);

-- One row per device: the latest health, kept up to date as messages arrive or stop.
CREATE TABLE device_health (
    source           TEXT    NOT NULL,
    device           TEXT    NOT NULL,
    school_id        INTEGER REFERENCES schools(id),
    alarm_point_id   INTEGER REFERENCES alarm_points(id),
    state            TEXT    NOT NULL CHECK (state IN ('ok', 'warning', 'comm_failure')),
    detail           TEXT    NOT NULL DEFAULT '',
    last_seen        TEXT    NOT NULL,
    supervision_secs INTEGER,
    updated_at       TEXT    NOT NULL,
    PRIMARY KEY (source, device)
);
CREATE INDEX device_health_by_school ON device_health (school_id);

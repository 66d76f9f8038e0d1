-- GB/T 28181 devices (what registered, how to reach it) and their catalog channels, each of
-- which can be bound to a school and an alarm point.

CREATE TABLE gb_devices (
    id            TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL DEFAULT '',
    manufacturer  TEXT    NOT NULL DEFAULT '',
    model         TEXT    NOT NULL DEFAULT '',
    firmware      TEXT    NOT NULL DEFAULT '',
    transport     TEXT    NOT NULL,
    remote        TEXT    NOT NULL,
    online        INTEGER NOT NULL,
    registered_at TEXT,
    expires_at    TEXT,
    last_seen     TEXT,
    school_id     INTEGER REFERENCES schools(id)
);
CREATE INDEX gb_devices_by_school ON gb_devices (school_id);

CREATE TABLE gb_channels (
    id             TEXT    PRIMARY KEY,
    device_id      TEXT    NOT NULL,
    name           TEXT    NOT NULL DEFAULT '',
    type_code      INTEGER NOT NULL,
    status         TEXT    NOT NULL DEFAULT '',
    manufacturer   TEXT    NOT NULL DEFAULT '',
    model          TEXT    NOT NULL DEFAULT '',
    address        TEXT    NOT NULL DEFAULT '',
    longitude      REAL,
    latitude       REAL,
    school_id      INTEGER REFERENCES schools(id),
    alarm_point_id INTEGER REFERENCES alarm_points(id),
    updated_at     TEXT    NOT NULL
);
CREATE INDEX gb_channels_by_device ON gb_channels (device_id);
CREATE INDEX gb_channels_by_school ON gb_channels (school_id);

-- Continuous recording: one row per fMP4 segment file on disk (path relative to the data
-- directory). A row is inserted 'open' when its segment opens and updated once, 'closed', when
-- the segment closes; the start-up check closes rows a crash left open.
CREATE TABLE recordings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    camera_id TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    -- Wall clock (UTC, ms) and stream time (90 kHz pts) of the first frame and of the end.
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL,
    start_pts INTEGER NOT NULL,
    end_pts INTEGER NOT NULL,
    frames INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    codec TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'closed'))
);
CREATE INDEX recordings_camera_start ON recordings (camera_id, start_ms);
CREATE INDEX recordings_start ON recordings (start_ms);

-- What the recorder runs with, published for the API (where the files are, the retention
-- rules, the last retention pass's warning). One row.
CREATE TABLE recording_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    data_dir TEXT NOT NULL,
    retention_days INTEGER NOT NULL,
    quota_bytes INTEGER NOT NULL,
    min_free_bytes INTEGER NOT NULL,
    warning TEXT,
    updated_ms INTEGER NOT NULL
);

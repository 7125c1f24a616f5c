-- +goose Up
-- One row per CDC pipeline: where the stream is (saved only after the engine
-- acknowledged everything before it) and how far an unfinished snapshot got.
CREATE TABLE cdc_state (
    id                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    name              VARCHAR(64)  NOT NULL,
    phase             ENUM('snapshot', 'streaming') NOT NULL DEFAULT 'snapshot',
    binlog_file       VARCHAR(255) NOT NULL DEFAULT '',
    binlog_pos        INT UNSIGNED NOT NULL DEFAULT 0,
    gtid_set          TEXT         NULL,
    snapshot_index    VARCHAR(32)  NOT NULL DEFAULT '',
    snapshot_physical VARCHAR(255) NOT NULL DEFAULT '',
    snapshot_last_id  BIGINT UNSIGNED NOT NULL DEFAULT 0,
    snapshot_done     VARCHAR(255) NOT NULL DEFAULT '',
    snapshot_since    DATETIME(6)  NULL,
    events_applied    BIGINT UNSIGNED NOT NULL DEFAULT 0,
    docs_written      BIGINT UNSIGNED NOT NULL DEFAULT 0,
    conflicts         BIGINT UNSIGNED NOT NULL DEFAULT 0,
    created_at        DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at        DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY uk_cdc_state_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE cdc_state;

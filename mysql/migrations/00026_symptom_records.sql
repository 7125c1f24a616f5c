-- +goose Up
-- severity: 0 none, 1 mild, 2 moderate, 3 severe. triggers: JSON array of strings.
CREATE TABLE symptom_records (
    id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id          BIGINT UNSIGNED NOT NULL,
    recorded_at      DATETIME(6)   NOT NULL,
    severity         TINYINT UNSIGNED NOT NULL,
    night_waking     BOOLEAN       NOT NULL DEFAULT FALSE,
    activity_limited BOOLEAN       NOT NULL DEFAULT FALSE,
    triggers         VARCHAR(1000) NOT NULL DEFAULT '[]',
    memo             VARCHAR(1000) NOT NULL DEFAULT '',
    created_at       DATETIME(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at       DATETIME(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    KEY idx_symptom_records_user_id_recorded_at (user_id, recorded_at),
    CONSTRAINT fk_symptom_records_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE symptom_records;

-- +goose Up
-- One counter per user, bumped in the same transaction as every write to the user's care records
-- (action plan, symptoms, peak flow, ACT, health events, medications, schedules, intakes). Readers
-- that cache something derived from those tables (the month calendar) compare it with one lookup
-- of uk_care_versions_user_id; no row means version 0 (nothing written since this table exists).
CREATE TABLE care_versions (
    id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id    BIGINT UNSIGNED NOT NULL,
    version    BIGINT UNSIGNED NOT NULL DEFAULT 0,
    created_at DATETIME(6)     NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at DATETIME(6)     NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY uk_care_versions_user_id (user_id),
    CONSTRAINT fk_care_versions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE care_versions;

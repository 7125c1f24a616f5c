-- +goose Up
-- times: comma-separated local times of day (HH:MM, sorted); weekdays: bit i set = time.Weekday(i)
-- (bit 0 Sunday); time_zone: IANA name in which the times are meant. active_from/deleted_at bound the
-- doses that are due (calendar adherence, reminders).
CREATE TABLE medication_schedules (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id       BIGINT UNSIGNED NOT NULL,
    medication_id BIGINT UNSIGNED NOT NULL,
    times         VARCHAR(300) NOT NULL,
    weekdays      TINYINT UNSIGNED NOT NULL,
    time_zone     VARCHAR(64)  NOT NULL,
    active_from   DATETIME(6)  NOT NULL,
    created_at    DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at    DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    deleted_at    DATETIME(6)  NULL,
    PRIMARY KEY (id),
    KEY idx_medication_schedules_user_id (user_id, id),
    KEY idx_medication_schedules_deleted_at (deleted_at),
    CONSTRAINT fk_medication_schedules_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT,
    CONSTRAINT fk_medication_schedules_medication FOREIGN KEY (medication_id) REFERENCES medications (id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE medication_schedules;

-- +goose Up
-- One row per dose taken or skipped. A scheduled dose (schedule_id, scheduled_at) is recorded at most
-- once; an unscheduled dose (a reliever puff) has both NULL, which the unique key allows many times.
-- (user_id, recorded_at) serves the calendar and reports.
CREATE TABLE medication_intakes (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id       BIGINT UNSIGNED NOT NULL,
    medication_id BIGINT UNSIGNED NOT NULL,
    schedule_id   BIGINT UNSIGNED NULL,
    scheduled_at  DATETIME(6)  NULL,
    status        ENUM('taken', 'skipped') NOT NULL,
    recorded_at   DATETIME(6)  NOT NULL,
    created_at    DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at    DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY uk_medication_intakes_dose (schedule_id, scheduled_at),
    KEY idx_medication_intakes_user_id_recorded_at (user_id, recorded_at),
    CONSTRAINT fk_medication_intakes_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT,
    CONSTRAINT fk_medication_intakes_medication FOREIGN KEY (medication_id) REFERENCES medications (id) ON DELETE RESTRICT,
    CONSTRAINT fk_medication_intakes_schedule FOREIGN KEY (schedule_id) REFERENCES medication_schedules (id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE medication_intakes;

-- +goose Up
-- The per-user asthma action plan: personal best peak flow (the base of PEF zones) and the
-- IANA time zone in which calendars, reports and default schedules are computed.
CREATE TABLE care_plans (
    id                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id           BIGINT UNSIGNED NOT NULL,
    personal_best_lpm SMALLINT UNSIGNED NULL,
    time_zone         VARCHAR(64)  NOT NULL DEFAULT 'Asia/Seoul',
    created_at        DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at        DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY uk_care_plans_user_id (user_id),
    CONSTRAINT fk_care_plans_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE care_plans;

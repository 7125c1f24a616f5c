-- +goose Up
-- Exacerbations: an emergency-room visit, a hospital admission or an oral steroid course.
-- start_date/end_date are local dates in the user's time zone (end NULL: one day, or still running).
CREATE TABLE health_events (
    id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id    BIGINT UNSIGNED NOT NULL,
    kind       ENUM('er_visit', 'admission', 'oral_steroid') NOT NULL,
    start_date DATE          NOT NULL,
    end_date   DATE          NULL,
    memo       VARCHAR(1000) NOT NULL DEFAULT '',
    created_at DATETIME(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at DATETIME(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    KEY idx_health_events_user_id_start_date (user_id, start_date),
    CONSTRAINT fk_health_events_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE health_events;

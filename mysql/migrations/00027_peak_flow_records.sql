-- +goose Up
-- personal_best_lpm, percent_of_best and zone are snapshots of the action plan at write time, so a
-- later change of personal best does not rewrite history. NULL when the plan had no personal best.
CREATE TABLE peak_flow_records (
    id                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id           BIGINT UNSIGNED NOT NULL,
    recorded_at       DATETIME(6)  NOT NULL,
    value_lpm         SMALLINT UNSIGNED NOT NULL,
    slot              ENUM('morning', 'evening', 'other') NOT NULL,
    personal_best_lpm SMALLINT UNSIGNED NULL,
    percent_of_best   SMALLINT UNSIGNED NULL,
    zone              ENUM('green', 'yellow', 'red') NULL,
    created_at        DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at        DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    KEY idx_peak_flow_records_user_id_recorded_at (user_id, recorded_at),
    CONSTRAINT fk_peak_flow_records_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE peak_flow_records;

-- +goose Up
-- Asthma Control Test: five answers 1-5, total 5-25 (stored for queries, always the sum).
CREATE TABLE act_results (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id     BIGINT UNSIGNED NOT NULL,
    recorded_at DATETIME(6)  NOT NULL,
    q1          TINYINT UNSIGNED NOT NULL,
    q2          TINYINT UNSIGNED NOT NULL,
    q3          TINYINT UNSIGNED NOT NULL,
    q4          TINYINT UNSIGNED NOT NULL,
    q5          TINYINT UNSIGNED NOT NULL,
    total       TINYINT UNSIGNED NOT NULL,
    created_at  DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at  DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    KEY idx_act_results_user_id_recorded_at (user_id, recorded_at),
    CONSTRAINT fk_act_results_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE act_results;

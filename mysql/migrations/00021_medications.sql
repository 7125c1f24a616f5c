-- +goose Up
-- Soft delete (deleted_at) keeps the intake history of a medication the user stopped.
CREATE TABLE medications (
    id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id    BIGINT UNSIGNED NOT NULL,
    name       VARCHAR(100) NOT NULL,
    role       ENUM('controller', 'reliever', 'other') NOT NULL,
    form       ENUM('inhaler', 'tablet', 'nebulizer', 'other') NOT NULL,
    dose       DECIMAL(8,2) NOT NULL,
    dose_unit  VARCHAR(20)  NOT NULL,
    created_at DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    deleted_at DATETIME(6)  NULL,
    PRIMARY KEY (id),
    KEY idx_medications_user_id_id (user_id, id),
    CONSTRAINT fk_medications_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE medications;

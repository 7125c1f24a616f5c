-- +goose Up
-- Refresh-token grace (auth.refresh_reuse_grace): when a refresh token is rotated, its successor is kept
-- here sealed (AES-256-GCM) under a key derived from the rotated token itself, which the database never
-- holds (refresh_tokens stores only its SHA-256). Presenting the rotated token again within the grace
-- (two requests of the app in flight) unseals and returns the same successor instead of revoking the
-- session; after the grace it is reuse as before. Rows older than an hour are pruned on rotation.
CREATE TABLE refresh_token_successors (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    token_id     BIGINT UNSIGNED NOT NULL,
    successor_id BIGINT UNSIGNED NOT NULL,
    sealed_token VARBINARY(128) NOT NULL,
    created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY uk_refresh_token_successors_token_id (token_id),
    KEY idx_refresh_token_successors_successor_id (successor_id),
    KEY idx_refresh_token_successors_created_at (created_at),
    CONSTRAINT fk_refresh_token_successors_token FOREIGN KEY (token_id) REFERENCES refresh_tokens (id) ON DELETE RESTRICT,
    CONSTRAINT fk_refresh_token_successors_successor FOREIGN KEY (successor_id) REFERENCES refresh_tokens (id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE refresh_token_successors;

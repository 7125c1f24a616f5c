-- +goose Up
-- subject is an opaque, case-sensitive id from the SNS provider, hence utf8mb4_bin.
CREATE TABLE user_identities (
    id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id    BIGINT UNSIGNED NOT NULL,
    provider   VARCHAR(32)  NOT NULL,
    subject    VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,
    email      VARCHAR(255) NULL,
    created_at DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY uk_user_identities_provider_subject (provider, subject),
    KEY idx_user_identities_user_id (user_id),
    CONSTRAINT fk_user_identities_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE user_identities;

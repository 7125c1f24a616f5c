-- Conventions for every table (see the package doc in mysql.go):
--   * InnoDB, utf8mb4 / utf8mb4_unicode_ci, BIGINT UNSIGNED AUTO_INCREMENT `id` primary key
--     (the id is also the Elasticsearch document id).
--   * created_at / updated_at DATETIME(6) in UTC (mysql.Open sets the session time_zone).
--   * Foreign keys RESTRICT deletes: InnoDB cascades are not written to the binlog, so a cascaded
--     delete would be invisible to the CDC worker. Delete children explicitly.
--   * One table per migration: MySQL DDL is not transactional, so a failed file leaves at most
--     one half-done statement to clean up.

-- +goose Up
-- nickname uses utf8mb4_unicode_520_ci: under utf8mb4_unicode_ci (UCA 4.0) every character outside
-- the BMP weighs the same, so '민지🌸' and '민지🌷' would collide on the unique key.
CREATE TABLE users (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    email         VARCHAR(255) NULL,
    password_hash VARCHAR(255) NULL,
    nickname      VARCHAR(30)  COLLATE utf8mb4_unicode_520_ci NOT NULL,
    bio           VARCHAR(500) NOT NULL DEFAULT '',
    role          ENUM('user', 'editor', 'admin') NOT NULL DEFAULT 'user',
    status        ENUM('active', 'blocked', 'deleted') NOT NULL DEFAULT 'active',
    last_login_at DATETIME(6)  NULL,
    created_at    DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at    DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    deleted_at    DATETIME(6)  NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uk_users_email (email),
    UNIQUE KEY uk_users_nickname (nickname),
    KEY idx_users_updated_at (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE users;

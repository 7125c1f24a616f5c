-- +goose Up
-- Failed-login counters shared by every `serve` instance (package auth, auth.login_throttle.*).
-- One row per throttled subject: scope 'account' (SHA-256 of the normalised e-mail, known or not, so the
-- table never says which addresses have accounts) or 'ip' (SHA-256 of the client address; an IPv6 client
-- is its /64). failures counts password checks in the fixed window that starts at window_start and were
-- not followed by a successful login; at the limit, logins answer 429 until window_start + window. Rows
-- whose window is over are pruned as new subjects arrive. Not watched by the CDC (users is, so the
-- counters do not live there: every failed login would re-index the user).
CREATE TABLE login_throttles (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    scope        ENUM('account', 'ip') NOT NULL,
    subject      BINARY(32)   NOT NULL,
    failures     INT UNSIGNED NOT NULL DEFAULT 0,
    window_start DATETIME(6)  NOT NULL,
    created_at   DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at   DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY uk_login_throttles_scope_subject (scope, subject),
    KEY idx_login_throttles_window_start (window_start)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE login_throttles;

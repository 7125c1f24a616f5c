-- +goose Up
-- Spent SNS-login nonces (package auth). The server issues a nonce (POST /v1/auth/oidc/nonce) as a random
-- value with its expiry, MAC'd with a key derived from auth.jwt_secret, so issuing stores nothing. An ID
-- token is accepted only with such a nonce, and the nonce is spent in the sign-in's transaction by
-- inserting its SHA-256 here: the unique key refuses a second use (a replayed ID token). Rows past
-- expires_at can no longer be presented (the MAC'd expiry refuses them first) and are pruned as new ones
-- arrive.
CREATE TABLE oidc_nonces (
    id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    nonce_hash BINARY(32)  NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY uk_oidc_nonces_nonce_hash (nonce_hash),
    KEY idx_oidc_nonces_expires_at (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE oidc_nonces;

-- +goose Up
-- (user_id, id): the CDC worker re-indexes every post of a user whose nickname changed.
CREATE TABLE posts (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id       BIGINT UNSIGNED NOT NULL,
    category      VARCHAR(50)  NOT NULL,
    title         VARCHAR(200) NOT NULL,
    body          TEXT         NOT NULL,
    like_count    INT UNSIGNED NOT NULL DEFAULT 0,
    comment_count INT UNSIGNED NOT NULL DEFAULT 0,
    status        ENUM('visible', 'hidden') NOT NULL DEFAULT 'visible',
    created_at    DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at    DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    deleted_at    DATETIME(6)  NULL,
    PRIMARY KEY (id),
    KEY idx_posts_user_id_id (user_id, id),
    KEY idx_posts_status_created_at_id (status, created_at, id),
    KEY idx_posts_category_status_id (category, status, id),
    KEY idx_posts_like_count_id (like_count, id),
    KEY idx_posts_updated_at (updated_at),
    CONSTRAINT fk_posts_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE posts;

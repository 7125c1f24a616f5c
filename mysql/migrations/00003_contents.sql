-- +goose Up
CREATE TABLE contents (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    author_id    BIGINT UNSIGNED NOT NULL,
    title        VARCHAR(200) NOT NULL,
    body         MEDIUMTEXT   NOT NULL,
    summary      VARCHAR(500) NOT NULL DEFAULT '',
    category     VARCHAR(50)  NOT NULL,
    tags         JSON         NOT NULL DEFAULT (JSON_ARRAY()),
    status       ENUM('draft', 'published') NOT NULL DEFAULT 'draft',
    published_at DATETIME(6)  NULL,
    created_at   DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at   DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    deleted_at   DATETIME(6)  NULL,
    PRIMARY KEY (id),
    KEY idx_contents_status_published_at (status, published_at),
    KEY idx_contents_category_status_published_at (category, status, published_at),
    KEY idx_contents_updated_at (updated_at),
    KEY idx_contents_author_id (author_id),
    CONSTRAINT fk_contents_author FOREIGN KEY (author_id) REFERENCES users (id) ON DELETE RESTRICT,
    CONSTRAINT ck_contents_tags_json CHECK (JSON_VALID(tags))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE contents;

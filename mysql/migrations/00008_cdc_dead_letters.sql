-- +goose Up
-- Documents the engine rejected (mapping errors and the like): recorded here
-- before the checkpoint may pass them, never dropped silently.
CREATE TABLE cdc_dead_letters (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    pipeline    VARCHAR(64)  NOT NULL,
    index_name  VARCHAR(255) NOT NULL,
    doc_id      VARCHAR(64)  NOT NULL,
    action      VARCHAR(16)  NOT NULL,
    version     BIGINT       NOT NULL,
    status      INT          NOT NULL,
    error_type  VARCHAR(255) NOT NULL DEFAULT '',
    reason      TEXT         NOT NULL,
    created_at  DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at  DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    KEY idx_cdc_dead_letters_pipeline_id (pipeline, id),
    KEY idx_cdc_dead_letters_doc (index_name, doc_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE cdc_dead_letters;

-- +goose Up
-- Admins' decisions on reported or hidden community posts (GET /v1/admin/reports): 'confirmed' keeps
-- the post hidden, 'restored' makes it visible again. Every decision is kept (who, when, how many open
-- reports it resolved); post_reports.moderation_id points at the decision that resolved a report.
CREATE TABLE post_moderations (
    id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    post_id          BIGINT UNSIGNED NOT NULL,
    decision         ENUM('confirmed', 'restored') NOT NULL,
    decided_by       BIGINT UNSIGNED NOT NULL,
    decided_at       DATETIME(6)  NOT NULL,
    resolved_reports INT UNSIGNED NOT NULL DEFAULT 0,
    created_at       DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at       DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    KEY idx_post_moderations_post_id_id (post_id, id),
    KEY idx_post_moderations_decided_by (decided_by),
    CONSTRAINT fk_post_moderations_post FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE RESTRICT,
    CONSTRAINT fk_post_moderations_user FOREIGN KEY (decided_by) REFERENCES users (id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE post_moderations;

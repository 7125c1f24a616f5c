-- +goose Up
-- The audit of users.role (issue #27): one row per `soomcare users grant-role`, never updated. actor names who ran
-- it, 'cli:<name>' (--by, default the OS user), like analysis_rule_changes.actor. A user's rows stay when the user
-- is deleted (no foreign key: accounts are soft-deleted, and the audit must outlive them).
CREATE TABLE user_role_changes (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id     BIGINT UNSIGNED NOT NULL,
    before_role VARCHAR(20)   NOT NULL,
    after_role  VARCHAR(20)   NOT NULL,
    actor       VARCHAR(80)   NOT NULL,
    changed_at  DATETIME(6)   NOT NULL,
    created_at  DATETIME(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at  DATETIME(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    KEY idx_user_role_changes_user (user_id, changed_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE user_role_changes;

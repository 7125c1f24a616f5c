-- +goose Up
-- Editors' control over the popular past queries suggest shows to everyone (package insights,
-- `soomcare suggestions`, /v1/editor/suggestions/…): a block with match_kind 'exact' removes one query
-- (in its suggested form: Hangul, lower case, single spaces), 'contains' blocks every query holding the
-- text. created_by names the actor: 'user:<id>' (editor API) or 'cli:<name>'. Serve processes poll the
-- newest search_suggestion_changes id (every insights.blocks_refresh) and reload the blocks when it moves.
CREATE TABLE search_suggestion_blocks (
    id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    text       VARCHAR(200) COLLATE utf8mb4_bin NOT NULL,
    match_kind ENUM('exact', 'contains') NOT NULL,
    created_by VARCHAR(80)  NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY uk_search_suggestion_blocks_text (text, match_kind)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per remove, block or unblock, never updated. actor_user_id is the editor's user id (NULL for
-- the CLI).
CREATE TABLE search_suggestion_changes (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    block_id      BIGINT UNSIGNED NOT NULL,
    action        ENUM('remove', 'block', 'unblock') NOT NULL,
    text          VARCHAR(200) COLLATE utf8mb4_bin NOT NULL,
    match_kind    ENUM('exact', 'contains') NOT NULL,
    actor         VARCHAR(80)  NOT NULL,
    actor_user_id BIGINT UNSIGNED NULL,
    changed_at    DATETIME(6)  NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    KEY idx_search_suggestion_changes_actor_user_id (actor_user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE search_suggestion_changes;
DROP TABLE search_suggestion_blocks;

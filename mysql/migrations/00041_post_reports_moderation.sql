-- +goose Up
-- counts_toward_hide: whether the reporter qualified when reporting (account at least
-- community.report_min_account_age old and community.report_min_activity posts or comments); only open
-- qualifying reports count toward community.report_hide_threshold. Reports recorded before this
-- migration did not check their reporter, so they stay 0: they are in the admin queue but hide nothing more.
-- moderation_id: the admin decision that resolved the report (NULL: open, in the queue).
-- (user_id, created_at) replaces (user_id) for the per-day report limit (and still serves the foreign key).
ALTER TABLE post_reports
    ADD COLUMN counts_toward_hide TINYINT(1) NOT NULL DEFAULT 0 AFTER memo,
    ADD COLUMN moderation_id BIGINT UNSIGNED NULL AFTER counts_toward_hide,
    DROP KEY idx_post_reports_user_id,
    ADD KEY idx_post_reports_user_id_created_at (user_id, created_at),
    ADD KEY idx_post_reports_moderation_id_post_id (moderation_id, post_id),
    ADD CONSTRAINT fk_post_reports_moderation FOREIGN KEY (moderation_id) REFERENCES post_moderations (id) ON DELETE RESTRICT;

-- +goose Down
ALTER TABLE post_reports
    DROP FOREIGN KEY fk_post_reports_moderation;
ALTER TABLE post_reports
    DROP KEY idx_post_reports_moderation_id_post_id,
    ADD KEY idx_post_reports_user_id (user_id),
    DROP KEY idx_post_reports_user_id_created_at,
    DROP COLUMN moderation_id,
    DROP COLUMN counts_toward_hide;

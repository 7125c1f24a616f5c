-- +goose Up
-- Dead letters of rows, not only of documents the engine rejected: `source` says which
-- ('engine': the engine refused the document; 'row': the row could not become a document —
-- malformed JSON, a value out of a field's range, an unreadable id). A dead letter is open
-- until a later change of that row is acknowledged by the engine (or `soomcare cdc
-- dead-letters retry` writes it): then resolved_at is set. The index serves the CDC's
-- "open dead letters of this document" lookups and `cdc dead-letters list`.
ALTER TABLE cdc_dead_letters
    ADD COLUMN source      VARCHAR(8)  NOT NULL DEFAULT 'engine' AFTER doc_id,
    ADD COLUMN resolved_at DATETIME(6) NULL AFTER created_at,
    ADD KEY idx_cdc_dead_letters_open (pipeline, index_name, doc_id, resolved_at);

-- +goose Down
ALTER TABLE cdc_dead_letters
    DROP KEY idx_cdc_dead_letters_open,
    DROP COLUMN resolved_at,
    DROP COLUMN source;

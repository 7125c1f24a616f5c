-- +goose Up
-- The exactly-once ledger of reminders: a dispatcher INSERTs (schedule_id, due_at) before sending, so
-- a second dispatcher finds the row and never sends it again. A row is sent by whoever holds its lease
-- (claimed_until); a failed send goes back to 'retry' with next_attempt_at, and to 'failed' after
-- reminders.max_attempts. No FK on schedule_id: the ledger outlives a deleted schedule.
CREATE TABLE reminder_deliveries (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    schedule_id     BIGINT UNSIGNED NOT NULL,
    user_id         BIGINT UNSIGNED NOT NULL,
    due_at          DATETIME(6)  NOT NULL,
    status          ENUM('pending', 'retry', 'sent', 'failed', 'no_device') NOT NULL DEFAULT 'pending',
    attempts        INT UNSIGNED NOT NULL DEFAULT 0,
    next_attempt_at DATETIME(6)  NOT NULL,
    claimed_by      VARCHAR(64)  NULL,
    claimed_until   DATETIME(6)  NULL,
    sent_at         DATETIME(6)  NULL,
    last_error      VARCHAR(500) NULL,
    created_at      DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at      DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY uk_reminder_deliveries_schedule_due (schedule_id, due_at),
    KEY idx_reminder_deliveries_status_next (status, next_attempt_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE reminder_deliveries;

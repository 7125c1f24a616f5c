-- +goose Up
-- The server whose binlog a CDC checkpoint is a position in (mysql.BinlogServer: server_id, and
-- server_uuid on MySQL). A worker started against another server (cdc.source_dsn moved) refuses
-- to stream from a position that means nothing there. '' on checkpoints saved before this column:
-- the next start records the server it reads.
ALTER TABLE cdc_state ADD COLUMN source_server VARCHAR(160) NOT NULL DEFAULT '' AFTER gtid_set;

-- +goose Down
ALTER TABLE cdc_state DROP COLUMN source_server;

-- Runs once, when the mysql service initialises an empty data volume (docker-entrypoint-initdb.d).
-- By then the entrypoint has created MYSQL_USER ('soomcare'@'%') with ALL on MYSQL_DATABASE.
--
-- The CDC worker (`soomcare cdc`) reads the binlog as a replica with the same user:
--   REPLICATION SLAVE  - to request the binlog stream (COM_BINLOG_DUMP / COM_BINLOG_DUMP_GTID);
--   REPLICATION CLIENT - for SHOW BINARY LOG STATUS / SHOW BINARY LOGS (current position, purged check).
-- Both are global privileges, hence ON *.*.
-- To apply this to an existing volume, run it by hand as root or recreate the volume (docker compose down -v).
GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'soomcare'@'%';

package testenv

import "testing"

// EnvMySQLReplicaDSN is the read replica of the MariaDB instance
// (`scripts/testenv.sh up mariadb-replica`): server_id 2, log_slave_updates,
// read_only, replicating by GTID. Its account (soomcare_cdc) may read rows and
// follow the binlog, nothing else.
const EnvMySQLReplicaDSN = "SOOMCARE_TEST_MYSQL_REPLICA_DSN"

// MySQLReplicaDSN returns the replica's DSN (user:pass@tcp(host:port)/). The
// replica is optional: tests skip without it.
func MySQLReplicaDSN(t testing.TB) string {
	t.Helper()
	return optional(t, EnvMySQLReplicaDSN, "MariaDB replica", "mariadb-replica")
}

// Package mysql opens connections to MySQL (the source of truth) and owns the
// schema: goose SQL migrations embedded from migrations/*.sql.
//
// Schema conventions, kept by every migration and checked by the tests:
//   - InnoDB, utf8mb4 with utf8mb4_unicode_ci (users.nickname uses
//     utf8mb4_unicode_520_ci so that emoji stay distinct; subjects of SNS
//     identities are utf8mb4_bin);
//   - a BIGINT UNSIGNED AUTO_INCREMENT primary key `id`, which is also the
//     Elasticsearch document id;
//   - created_at/updated_at DATETIME(6) written by the server in UTC;
//   - foreign keys RESTRICT deletes, because InnoDB does not write cascaded
//     deletes to the binlog and the CDC worker would never see them.
//
// MySQL DDL is not transactional: a migration that fails half-way is not
// rolled back, hence one table per migration file.
package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"strings"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"
)

// Charset and Collation are the connection character set and collation that
// Open forces; the migrations use the same ones for every table.
const (
	Charset   = "utf8mb4"
	Collation = "utf8mb4_unicode_ci"
)

// Options tunes the connection pool. A zero field keeps the database/sql default.
type Options struct {
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	// SlowThreshold: statements taking at least this long log at warn on
	// Logger with their Family and duration (mysql.slow_query_threshold),
	// with the attributes of their context (the request's id); 0 or a nil
	// Logger: off.
	SlowThreshold time.Duration
	Logger        *slog.Logger
	// Observe, when set, is told every statement's Family, latency (to the
	// first row) and whether it failed: the statement histogram of a
	// process's /metrics (telemetry.Calls.Observe).
	Observe func(family string, d time.Duration, failed bool)
}

// ParseDSN parses a go-sql-driver DSN (user:pass@tcp(host:port)/dbname?params)
// and forces the settings the schema relies on: ParseTime, Loc=UTC, session
// time_zone '+00:00' (so DEFAULT CURRENT_TIMESTAMP agrees with Loc),
// utf8mb4/utf8mb4_unicode_ci and no multi-statements; interpolateParams is
// on unless the DSN sets it. Other parameters of the DSN are kept. The CDC worker can use the result for its replication
// connection (Addr, User, Passwd).
func ParseDSN(dsn string) (*mysqldrv.Config, error) {
	cfg, err := mysqldrv.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("mysql: parse DSN: %w", err)
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.MultiStatements = false
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	if !strings.Contains(dsn, "interpolateParams=") {
		// One round trip per query instead of prepare, execute, close: the
		// CDC worker's id-list re-reads and most API queries run once each.
		// Safe here: the charset is always utf8mb4 (the driver refuses
		// interpolation with the multibyte charsets where it is not).
		cfg.InterpolateParams = true
	}
	if err := cfg.Apply(mysqldrv.Charset(Charset, Collation)); err != nil {
		return nil, fmt.Errorf("mysql: apply charset: %w", err)
	}
	return cfg, nil
}

// Open returns a pool for dsn configured as described by ParseDSN. It does not
// connect: call Ping when the caller wants to fail fast. ctx is accepted for
// symmetry with the other constructors and is currently unused.
func Open(ctx context.Context, dsn string, opts Options) (*sql.DB, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	connector, err := mysqldrv.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql: new connector: %w", err)
	}
	var conn driver.Connector = connector
	slow := opts.SlowThreshold > 0 && opts.Logger != nil
	if slow || opts.Observe != nil {
		log := slowLog{observe: opts.Observe}
		if slow {
			log.threshold, log.logger = opts.SlowThreshold, opts.Logger
		}
		conn = slowConnector{next: connector, log: log}
	}
	db := sql.OpenDB(conn)
	if opts.MaxOpenConns > 0 {
		db.SetMaxOpenConns(opts.MaxOpenConns)
	}
	if opts.MaxIdleConns > 0 {
		db.SetMaxIdleConns(opts.MaxIdleConns)
	}
	if opts.ConnMaxLifetime > 0 {
		db.SetConnMaxLifetime(opts.ConnMaxLifetime)
	}
	return db, nil
}

// Ping checks that the server answers, honouring ctx's deadline.
func Ping(ctx context.Context, db *sql.DB) error {
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("mysql: ping: %w", err)
	}
	return nil
}

// Scanner is one row to scan: *sql.Row or *sql.Rows.
type Scanner = interface {
	Scan(dest ...any) error
}

// QueryAll runs query and returns every row scanned by scan, an empty (not
// nil) slice when there is none.
func QueryAll[T any](ctx context.Context, q Querier, scan func(Scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Placeholders is the parenthesised list of n bind markers of an IN clause,
// "(?,?,?)"; n must be at least 1.
func Placeholders(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?,", n), ",") + ")"
}

// QueryIDs runs a query whose only column is an unsigned id and returns the ids.
func QueryIDs(ctx context.Context, q Querier, query string, args ...any) ([]uint64, error) {
	return QueryAll(ctx, q, func(r Scanner) (id uint64, err error) { return id, r.Scan(&id) }, query, args...)
}

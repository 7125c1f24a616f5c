package mysql

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"time"

	"github.com/pressly/goose/v3"
)

// migrationsFS holds the schema; it is read-only, so sharing it is safe.
//
//go:embed migrations/*.sql
var migrationsFS embed.FS

// ErrNoMigrationToRollBack is returned by Migrator.Down when no migration is applied.
var ErrNoMigrationToRollBack = errors.New("mysql: no migration to roll back")

// Result reports one migration that ran.
type Result struct {
	Version   int64
	Name      string // file name, e.g. 00001_users.sql
	Direction string // "up" or "down"
	Duration  time.Duration
}

// MigrationStatus reports whether one known migration is applied.
type MigrationStatus struct {
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time // zero when not applied
}

// Migrator applies the embedded migrations with goose. The version table is
// goose_db_version in the same database. Its methods are safe for concurrent
// use within one process; there is no cross-process lock, so run migrations
// from a single place (the `migrate` subcommand or a deploy step).
type Migrator struct {
	provider *goose.Provider
	logger   *slog.Logger
}

// NewMigrator returns a Migrator for db. A nil logger discards logs. It does
// not touch the database.
func NewMigrator(db *sql.DB, logger *slog.Logger) (*Migrator, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	fsys, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("mysql: migrations dir: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectMySQL, db, fsys,
		goose.WithDisableGlobalRegistry(true), // only our SQL files, no process-wide Go migrations
	)
	if err != nil {
		return nil, fmt.Errorf("mysql: goose provider: %w", err)
	}
	return &Migrator{provider: p, logger: logger}, nil
}

// Up applies every pending migration. On failure it returns the migrations
// that were applied before the failing one, with the error.
func (m *Migrator) Up(ctx context.Context) ([]Result, error) {
	res, err := m.provider.Up(ctx)
	if err != nil {
		var partial *goose.PartialError
		if errors.As(err, &partial) {
			return m.results(ctx, partial.Applied), fmt.Errorf("mysql: migrate up: %w", err)
		}
		return nil, fmt.Errorf("mysql: migrate up: %w", err)
	}
	out := m.results(ctx, res)
	if len(out) == 0 {
		m.logger.InfoContext(ctx, "schema is up to date")
	}
	return out, nil
}

// Down rolls back the most recently applied migration, or returns
// ErrNoMigrationToRollBack.
func (m *Migrator) Down(ctx context.Context) (Result, error) {
	res, err := m.provider.Down(ctx)
	if errors.Is(err, goose.ErrNoNextVersion) {
		return Result{}, ErrNoMigrationToRollBack
	}
	if err != nil {
		return Result{}, fmt.Errorf("mysql: migrate down: %w", err)
	}
	return m.results(ctx, []*goose.MigrationResult{res})[0], nil
}

// DownTo rolls back every applied migration above version; DownTo(ctx, 0)
// drops the whole schema.
func (m *Migrator) DownTo(ctx context.Context, version int64) ([]Result, error) {
	res, err := m.provider.DownTo(ctx, version)
	if err != nil {
		var partial *goose.PartialError
		if errors.As(err, &partial) {
			return m.results(ctx, partial.Applied), fmt.Errorf("mysql: migrate down to %d: %w", version, err)
		}
		return nil, fmt.Errorf("mysql: migrate down to %d: %w", version, err)
	}
	return m.results(ctx, res), nil
}

// Status lists every embedded migration in version order.
func (m *Migrator) Status(ctx context.Context) ([]MigrationStatus, error) {
	sts, err := m.provider.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("mysql: migration status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(sts))
	for _, s := range sts {
		out = append(out, MigrationStatus{
			Version:   s.Source.Version,
			Name:      path.Base(s.Source.Path),
			Applied:   s.State == goose.StateApplied,
			AppliedAt: s.AppliedAt,
		})
	}
	return out, nil
}

// Version returns the highest applied migration version, 0 for an empty schema.
func (m *Migrator) Version(ctx context.Context) (int64, error) {
	v, err := m.provider.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("mysql: migration version: %w", err)
	}
	return v, nil
}

// results converts goose results and logs each one.
func (m *Migrator) results(ctx context.Context, in []*goose.MigrationResult) []Result {
	out := make([]Result, 0, len(in))
	for _, r := range in {
		res := Result{
			Version:   r.Source.Version,
			Name:      path.Base(r.Source.Path),
			Direction: r.Direction,
			Duration:  r.Duration,
		}
		m.logger.InfoContext(ctx, "migration applied",
			slog.Int64("version", res.Version), slog.String("name", res.Name),
			slog.String("direction", res.Direction), slog.Duration("duration", res.Duration))
		out = append(out, res)
	}
	return out
}

package mysql

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// CreateScratch creates an empty utf8mb4 database named <prefix>_<random> on
// the server of dsn and returns a DSN for it and a function that drops it.
// Benchmarks and tests use it so they never touch the real schema.
func CreateScratch(ctx context.Context, dsn, prefix string) (string, func(context.Context) error, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return "", nil, err
	}
	cfg.DBName = ""
	admin, err := Open(ctx, cfg.FormatDSN(), Options{MaxOpenConns: 2})
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		admin.Close()
		return "", nil, err
	}
	name := prefix + "_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("mysql: create scratch database: %w", err)
	}
	cfg.DBName = name
	drop := func(ctx context.Context) error {
		defer admin.Close()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			return fmt.Errorf("mysql: drop scratch database %s: %w", name, err)
		}
		return nil
	}
	return cfg.FormatDSN(), drop, nil
}

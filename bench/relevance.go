package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/relevance"
)

// RelevanceSpec is what Relevance runs against.
type RelevanceSpec struct {
	DSN    string         // a MySQL server (Relevance creates its own throwaway database)
	Engine *engine.Client // must serve the nori profile
	// IndexPrefix is search.index_prefix: the throwaway indices are
	// <IndexPrefix>-bench-<random>-{nori,basic}-{contents,posts}.
	IndexPrefix string
	Keep        bool // keep the throwaway database (the indices are deleted regardless)
	Logger      *slog.Logger
	Progress    func(phase string, done, total int64) // optional
	Warn        io.Writer                             // where a failed drop is reported (nil: nowhere)
}

// RelevanceResult is the outcome of Relevance.
type RelevanceResult struct {
	Report *relevance.Report
	Took   time.Duration // relevance.Run: load, index, judge
	KeptDB string        // with Keep: the throwaway database left behind
}

// Relevance runs package relevance's judged queries over a migrated
// throwaway database and throwaway indices on spec.Engine. The database is
// dropped before Relevance returns unless spec.Keep; KeptDB is then set, also
// when an error is returned.
func Relevance(ctx context.Context, spec RelevanceSpec) (res RelevanceResult, err error) {
	if err := indexer.CheckProfile(ctx, spec.Engine, mappings.ProfileNori); err != nil {
		return res, fmt.Errorf("bench relevance builds nori indices on the configured engine: %w", err)
	}
	s, err := newScratch(ctx, spec.DSN, 8)
	if err != nil {
		return res, fmt.Errorf("create the throwaway database: %w", err)
	}
	defer func() { res.KeptDB = s.release(ctx, spec.Keep, spec.Warn) }()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return res, err
	}
	start := time.Now()
	res.Report, err = relevance.Run(ctx, s.db, spec.Engine, relevance.Options{
		Prefix:   spec.IndexPrefix + "-bench-" + hex.EncodeToString(b),
		Logger:   spec.Logger,
		Progress: spec.Progress,
	})
	res.Took = time.Since(start)
	return res, err
}

// release closes the scratch database and drops it (a failure is written
// to warn), or with keep leaves it and returns its name.
func (s *scratch) release(ctx context.Context, keep bool, warn io.Writer) string {
	s.db.Close()
	if keep {
		name := s.dsn
		if d, err := mysql.ParseDSN(s.dsn); err == nil {
			name = d.DBName
		}
		return name
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := s.drop(dctx); err != nil && warn != nil {
		fmt.Fprintf(warn, "warning: %v\n", err)
	}
	return ""
}

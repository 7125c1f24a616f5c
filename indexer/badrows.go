package indexer

import (
	"context"
	"fmt"
)

// Invariant 11 for builds: a row that cannot become a document never stops a
// reindex, a snapshot or a rollback. The build leaves it without a document
// (as the CDC does), records it where the CDC records its dead letters, and
// goes on; a later valid change of the row brings its document back.

// RowErrorSink records the rows a build found that cannot become a document:
// the alias they belong to, the version the build read them at, the rows.
// The CDC's dead-letter store is one (cdc.Store.RecordRowErrors).
type RowErrorSink interface {
	RecordRowErrors(ctx context.Context, alias string, version int64, bad []RowError) error
}

// WithRowErrors makes r record the rows it cannot turn into documents in
// sink; without one they are logged (id and reason, never content) and
// counted in Report.Unindexable only.
func (r *Reindexer) WithRowErrors(sink RowErrorSink) *Reindexer {
	r.rowErrors = sink
	return r
}

// leftOut is the set of rows one build left out. A build reads a row in
// several passes (the load, catch-up rounds, the id reconciliation, a
// rollback's comparisons), so a bad row is logged, recorded and counted once
// per build, not once per pass.
type leftOut struct {
	ids map[uint64]bool
	n   *int64 // the report's Unindexable
}

func newLeftOut(n *int64) *leftOut { return &leftOut{ids: map[uint64]bool{}, n: n} }

// add returns the rows of bad not left out before, and counts them.
func (l *leftOut) add(bad []RowError) []RowError {
	var fresh []RowError
	for _, b := range bad {
		if !l.ids[b.ID] {
			l.ids[b.ID] = true
			fresh = append(fresh, b)
		}
	}
	*l.n += int64(len(fresh))
	return fresh
}

// badRows logs and records the rows of bad this build has not left out yet,
// read at version for logical index name.
func (r *Reindexer) badRows(ctx context.Context, name string, version int64, bad []RowError, left *leftOut) error {
	fresh := left.add(bad)
	if len(fresh) == 0 {
		return nil
	}
	alias := r.life.Alias(name)
	for _, b := range fresh {
		r.logger.Warn("a row cannot become a document: left out of the index", "alias", alias, "id", b.ID, "reason", b.Reason)
	}
	if r.rowErrors == nil {
		return nil
	}
	if err := r.rowErrors.RecordRowErrors(ctx, alias, version, fresh); err != nil {
		return fmt.Errorf("record the rows of %s that cannot become documents: %w", alias, err)
	}
	return nil
}

// readByIDs re-reads rows by id at version: the good rows' documents, and
// each bad row (recorded, counted in left) as a row without one.
func (r *Reindexer) readByIDs(ctx context.Context, name string, ids []uint64, version int64, left *leftOut) ([]Doc, error) {
	docs, bad, err := r.src.ByIDsRows(ctx, name, ids)
	if err != nil {
		return nil, err
	}
	if err := r.badRows(ctx, name, version, bad, left); err != nil {
		return nil, err
	}
	return Chunk{Docs: docs, Bad: bad}.WithoutDocs(), nil
}

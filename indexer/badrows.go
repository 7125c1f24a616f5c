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

// badRows records bad, read at version for logical index name, and returns
// how many there were.
func (r *Reindexer) badRows(ctx context.Context, name string, version int64, bad []RowError) (int64, error) {
	if len(bad) == 0 {
		return 0, nil
	}
	alias := r.life.Alias(name)
	for _, b := range bad {
		r.logger.Warn("a row cannot become a document: left out of the index", "alias", alias, "id", b.ID, "reason", b.Reason)
	}
	if r.rowErrors == nil {
		return int64(len(bad)), nil
	}
	if err := r.rowErrors.RecordRowErrors(ctx, alias, version, bad); err != nil {
		return 0, fmt.Errorf("record the rows of %s that cannot become documents: %w", alias, err)
	}
	return int64(len(bad)), nil
}

// readByIDs re-reads rows by id at version: the good rows' documents, and
// each bad row (recorded, counted in unindexable) as a row without one.
func (r *Reindexer) readByIDs(ctx context.Context, name string, ids []uint64, version int64, unindexable *int64) ([]Doc, error) {
	docs, bad, err := r.src.ByIDsRows(ctx, name, ids)
	if err != nil {
		return nil, err
	}
	n, err := r.badRows(ctx, name, version, bad)
	if err != nil {
		return nil, err
	}
	*unindexable += n
	return Chunk{Docs: docs, Bad: bad}.WithoutDocs(), nil
}

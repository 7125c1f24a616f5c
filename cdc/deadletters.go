package cdc

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/indexer/bulk"
)

// Invariant 11: no single row can stop the stream. A row that cannot become
// a document (indexer.RowError, an unreadable id) and a document the engine
// refuses are dead letters; the stream moves on. A dead letter stays open
// until a later state of its document is acknowledged by the engine: then
// it is resolved (resolved_at).

// settleDeadLetters records the batch's dead letters (rows that could not
// become documents, documents the engine refused) and resolves the open
// ones whose document the engine has now acknowledged. It runs before the
// batch's checkpoint is saved.
func (a *applier) settleDeadLetters(ctx context.Context, j *job, res bulk.Result) error {
	a.refreshOpen(ctx)
	dl := j.dead
	for _, f := range res.Failed {
		dl = append(dl, DeadLetter{Index: f.Op.Index, DocID: f.Op.ID, Action: string(f.Op.Action), Source: DeadLetterEngine,
			Version: f.Op.Version, Status: f.Status, Type: f.Type, Reason: f.Reason})
	}
	if len(dl) > 0 {
		if err := retry(ctx, a.logger, a.metrics, "record dead letters", func() error { return a.store.RecordDeadLetters(ctx, dl) }); err != nil {
			return err
		}
		for _, d := range dl {
			a.logger.Error("recorded a dead letter; the stream goes on", "index", d.Index, "id", d.DocID, "source", d.Source,
				"version", d.Version, "type", d.Type, "reason", d.Reason)
			a.metrics.DeadLetters.WithLabelValues(d.Index, d.Source).Inc()
		}
	}
	if len(a.open) == 0 && len(dl) == 0 {
		return nil // the common case costs nothing per document
	}
	bad := make(map[DocKey]bool, len(dl))
	for _, d := range dl {
		bad[DocKey{Index: d.Index, DocID: d.DocID}] = true
	}
	var healed []DocKey
	if len(a.open) > 0 {
		for _, op := range j.ops {
			k := DocKey{Index: op.Index, DocID: op.ID}
			if a.open[k] && !bad[k] {
				healed = append(healed, k)
				delete(a.open, k)
			}
		}
	}
	for k := range bad {
		a.open[k] = true
	}
	if len(healed) == 0 {
		return nil
	}
	if err := retry(ctx, a.logger, a.metrics, "resolve dead letters", func() error { return a.store.ResolveDeadLetters(ctx, healed) }); err != nil {
		return err
	}
	a.logger.Info("dead letters resolved: a later state of their documents was acknowledged", "documents", len(healed))
	return nil
}

// refreshOpen re-reads the documents with an open dead letter every
// openEvery: a reindex records its own (RecordRowErrors), and a later state
// of those documents resolves them here too. A failed read keeps the set
// it has (asked again next time).
func (a *applier) refreshOpen(ctx context.Context) {
	if a.now().Sub(a.openAt) < a.openEvery {
		return
	}
	a.openAt = a.now()
	keys, err := a.store.OpenDeadLetterDocs(ctx)
	if err != nil {
		a.logger.Warn("could not re-read the open dead letters; keeping the known ones", "err", err)
		return
	}
	a.open = docSet(keys)
}

// RecordRowErrors records the rows a build (reindex, snapshot, rollback)
// found that cannot become a document, as dead letters of source "row" at
// the build's version: indexer.RowErrorSink. A document that already has an
// open dead letter gets no second one. It returns how many it recorded.
func (s *Store) RecordRowErrors(ctx context.Context, alias string, version int64, bad []indexer.RowError) error {
	_, err := s.recordRowErrors(ctx, alias, version, bad)
	return err
}

func (s *Store) recordRowErrors(ctx context.Context, alias string, version int64, bad []indexer.RowError) (int64, error) {
	dl := make([]DeadLetter, 0, len(bad))
	for _, b := range bad {
		_, d := poisoned(alias, b, version)
		dl = append(dl, d)
	}
	return s.recordDeadLetters(ctx, dl, true)
}

// countedRowErrors is the worker's sink for its snapshots and rebuilds: the
// store's, with the dead-letter counter the alert watches.
type countedRowErrors struct {
	store   *Store
	metrics *Metrics
}

func (c countedRowErrors) RecordRowErrors(ctx context.Context, alias string, version int64, bad []indexer.RowError) error {
	n, err := c.store.recordRowErrors(ctx, alias, version, bad)
	if err == nil {
		c.metrics.DeadLetters.WithLabelValues(alias, DeadLetterRow).Add(float64(n))
	}
	return err
}

var _ indexer.RowErrorSink = countedRowErrors{}

// DeadLetterRecord is one row of cdc_dead_letters.
type DeadLetterRecord struct {
	ID int64
	DeadLetter
	CreatedAt  time.Time
	ResolvedAt *time.Time
}

// DeadLetterFilter narrows ListDeadLetters: Index is the alias as recorded
// ("" all), DocID one document ("" all), All includes resolved ones.
type DeadLetterFilter struct {
	Index, DocID string
	All          bool
	Limit        int // default 1000
}

// ListDeadLetters returns the pipeline's dead letters, newest first.
func (s *Store) ListDeadLetters(ctx context.Context, f DeadLetterFilter) ([]DeadLetterRecord, error) {
	q := `SELECT id, index_name, doc_id, source, action, version, status, error_type, reason, created_at, resolved_at
	  FROM cdc_dead_letters WHERE pipeline = ?`
	args := []any{s.name}
	if f.Index != "" {
		q += " AND index_name = ?"
		args = append(args, f.Index)
	}
	if f.DocID != "" {
		q += " AND doc_id = ?"
		args = append(args, f.DocID)
	}
	if !f.All {
		q += " AND resolved_at IS NULL"
	}
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	rows, err := s.db.QueryContext(ctx, q+" ORDER BY id DESC LIMIT ?", append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	defer rows.Close()
	var out []DeadLetterRecord
	for rows.Next() {
		var (
			r        DeadLetterRecord
			resolved sql.NullTime
		)
		if err := rows.Scan(&r.ID, &r.Index, &r.DocID, &r.Source, &r.Action, &r.Version, &r.Status, &r.Type, &r.Reason,
			&r.CreatedAt, &resolved); err != nil {
			return nil, fmt.Errorf("list dead letters: %w", err)
		}
		if resolved.Valid {
			r.ResolvedAt = &resolved.Time
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RetryReport is what RetryDeadLetters did, per document.
type RetryReport struct {
	Resolved []DocKey          // written and acknowledged: their open dead letters are resolved
	Failed   map[DocKey]string // still failing, and why (the dead letters stay open)
}

// RetryDeadLetters re-reads the rows of the open dead letters in letters and
// writes them through the CDC's path (indexOf maps an alias to its logical
// index). Each document is written with the newest version among its open
// dead letters — the version of the event that failed — never a newer one:
// with external_gte versioning a write the CDC has made since (a later
// event, a higher version) wins over it, so a retry never regresses the
// index; the row's current state is written, so it never writes an older
// row either. Rows that still cannot become documents, and documents the
// engine refuses again, stay open.
func RetryDeadLetters(ctx context.Context, store *Store, reader Reader, writer Writer, indexOf map[string]string, letters []DeadLetterRecord) (RetryReport, error) {
	rep := RetryReport{Failed: map[DocKey]string{}}
	versions := map[DocKey]int64{}
	for _, l := range letters {
		if l.ResolvedAt != nil {
			continue
		}
		k := DocKey{Index: l.Index, DocID: l.DocID}
		if _, err := strconv.ParseUint(l.DocID, 10, 64); err != nil || indexOf[l.Index] == "" {
			rep.Failed[k] = "no row to re-read (unreadable id or unknown index): fix the row in MySQL, then resolve it by hand"
			continue
		}
		versions[k] = max(versions[k], l.Version)
	}
	var ops []bulk.Op
	for k, v := range versions {
		id, _ := strconv.ParseUint(k.DocID, 10, 64)
		docs, bad, err := reader.ByIDsRows(ctx, indexOf[k.Index], []uint64{id})
		if err != nil {
			return rep, err
		}
		for _, b := range bad {
			rep.Failed[k] = "the row still cannot become a document: " + b.Reason
		}
		for _, d := range docs {
			ops = append(ops, d.Op(k.Index, v))
		}
	}
	if len(ops) == 0 {
		return rep, nil
	}
	res, err := writer.Write(ctx, ops)
	if err != nil {
		return rep, err
	}
	refused := map[DocKey]bool{}
	for _, f := range res.Failed {
		k := DocKey{Index: f.Op.Index, DocID: f.Op.ID}
		refused[k] = true
		rep.Failed[k] = "the engine refused it again: " + f.Type
	}
	for _, op := range ops {
		if k := (DocKey{Index: op.Index, DocID: op.ID}); !refused[k] {
			rep.Resolved = append(rep.Resolved, k)
		}
	}
	return rep, store.ResolveDeadLetters(ctx, rep.Resolved)
}

package cdc

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/mysql"
)

// The worker's builds: the first snapshot, the rebuild of a stale or
// missing index before streaming, and the clean-up of what killed builds
// left. Every build goes through indexer.Reindexer (a new physical index and
// an alias swap), recording the rows it cannot index as dead letters.

// dropOrphans deletes the physical indices a killed build left behind (a
// SIGKILL during a snapshot or reindex): unfinished, behind no alias, not
// the snapshot this worker resumes, and with nobody building that index now
// (its build lock is free). Failures are logged: they cost disk, not data.
func (w *Worker) dropOrphans(ctx context.Context, st State) {
	for _, name := range w.indices() {
		deleted, err := indexer.DropOrphans(ctx, w.db, w.life, name, st.SnapshotPhysical)
		for _, idx := range deleted {
			w.logger.Info("deleted an index a killed build left unfinished", "index", idx, "alias", w.life.Alias(name))
		}
		if err != nil {
			w.logger.Info("not all orphaned indices were looked at or deleted", "alias", w.life.Alias(name), "err", err)
		}
	}
}

// rebuildStale rebuilds, from MySQL, any index whose alias does not exist
// (deleted by hand, or a new search.index_prefix) or whose mapping is older
// than this binary's (an upgrade added a field: strict mappings would turn
// every new document into a dead letter). The rebuild goes through a new
// physical index and an alias swap, so searches keep working meanwhile.
// Streaming then resumes from the checkpoint: the replay is harmless, the
// rebuild noted its own position.
func (w *Worker) rebuildStale(ctx context.Context, store *Store) error {
	for _, name := range w.indices() {
		want, err := mappings.SchemaVersion(name)
		if err != nil {
			return err
		}
		have, err := w.life.SchemaVersion(ctx, name)
		if err != nil {
			return fmt.Errorf("check index %s: %w", name, err)
		}
		switch {
		case have == 0:
			w.logger.Warn("search index missing; rebuilding it from MySQL before streaming", "alias", w.life.Alias(name))
		case have < want:
			w.logger.Warn("search index built for an older document shape; rebuilding it from MySQL before streaming",
				"alias", w.life.Alias(name), "schema_version", have, "wanted", want)
		case have > want:
			w.logger.Warn("search index built by a newer soomcare; streaming anyway (its extra fields stay unset) — upgrade this worker",
				"alias", w.life.Alias(name), "schema_version", have, "this_binary", want)
			continue
		default:
			continue
		}
		opts := indexer.ReindexOptions{Profile: w.cfg.Profile, Keep: 2}
		if w.cfg.Warm != nil {
			opts.Warm = w.cfg.Warm(name)
		}
		rep, err := w.reindexer(store).Run(ctx, name, opts)
		if err != nil {
			return fmt.Errorf("rebuild index %s: %w", name, err)
		}
		w.logger.Info("rebuilt", "alias", w.life.Alias(name), "documents", rep.Indexed, "took", rep.Took)
	}
	return nil
}

// reindexer builds from the source into physical indices, recording the rows
// that cannot become documents as store's dead letters (fenced, counted).
func (w *Worker) reindexer(store *Store) *indexer.Reindexer {
	return indexer.NewReindexer(w.db, w.es.ES, w.life, w.loader, w.logger).WithSource(w.source).
		WithRowErrors(countedRowErrors{store: store, metrics: w.metrics})
}

// snapshot loads every index from MySQL, resumably, and returns the state to
// stream from: the binlog position noted before the first read.
func (w *Worker) snapshot(ctx context.Context, store *Store, st State) (State, error) {
	if st.Position.File == "" {
		p, err := mysql.CurrentPosition(ctx, w.source)
		if err != nil {
			return st, err
		}
		st.Position = p
		if err := store.Save(ctx, st); err != nil {
			return st, err
		}
	}
	w.logger.Info("snapshot", "from", st.Position, "indices", w.indices(), "done", st.SnapshotDone)
	r := w.reindexer(store)
	for _, name := range w.indices() {
		if slices.Contains(st.SnapshotDone, name) {
			continue
		}
		opts := indexer.ReindexOptions{
			Profile: w.cfg.Profile,
			Keep:    2,
			Progress: func(phase string, done, total int64) {
				if phase == "load" && (done == total || done%10000 < int64(w.cfg.BatchSize)) {
					w.logger.Info("snapshot progress", "index", name, "rows", done, "of", total)
				}
			},
			OnPage: func(rp indexer.ResumePoint) error {
				st.SnapshotIndex, st.SnapshotPhysical, st.SnapshotLastID, st.SnapshotSince = name, rp.Physical, rp.AfterID, rp.Since
				return store.Save(ctx, st)
			},
		}
		if st.SnapshotIndex == name && st.SnapshotPhysical != "" {
			opts.Resume = &indexer.ResumePoint{Physical: st.SnapshotPhysical, AfterID: st.SnapshotLastID, From: st.Position, Since: st.SnapshotSince}
		}
		rep, err := r.Run(ctx, name, opts)
		if err != nil {
			return st, fmt.Errorf("snapshot %s: %w", name, err)
		}
		w.logger.Info("snapshot of index done", "index", name, "documents", rep.Indexed, "physical", rep.Physical, "took", rep.Took)
		st.SnapshotDone = append(st.SnapshotDone, name)
		st.SnapshotIndex, st.SnapshotPhysical, st.SnapshotLastID, st.SnapshotSince = "", "", 0, time.Time{}
		if err := store.Save(ctx, st); err != nil {
			return st, err
		}
	}
	st.Phase = PhaseStreaming
	st.SnapshotDone = nil
	if err := store.Save(ctx, st); err != nil {
		return st, err
	}
	return st, nil
}

package indexer

import (
	"context"
	"slices"
)

// reconcile compares the ids in the index with the searchable rows and
// rewrites the differences (hard deletes, rows that became searchable again).
// It returns how many it rewrote and how many rows are searchable. With the
// searchable set tracked during the load it only lists MySQL's ids (hard
// deletes); without it, it rebuilds every row's document to decide.
func (r *Reindexer) reconcile(ctx context.Context, name, physical string, searchable map[uint64]bool, left *leftOut) (fixed, count int64, err error) {
	if err := r.life.Refresh(ctx, physical); err != nil {
		return 0, 0, err
	}
	inIndex, err := r.indexIDs(ctx, physical)
	if err != nil {
		return 0, 0, err
	}
	want, err := r.searchableIDs(ctx, name, searchable)
	if err != nil {
		return 0, 0, err
	}
	stale := differing(want, inIndex)
	if len(stale) == 0 {
		return 0, int64(len(want)), nil
	}
	err = r.rewrite(ctx, name, physical, stale, left, func(docs []Doc) {
		for _, d := range docs { // the rows' current truth
			if d.Doc != nil {
				want[d.ID] = true
			} else {
				delete(want, d.ID)
			}
		}
		track(searchable, docs)
	})
	if err != nil {
		return 0, 0, err
	}
	return int64(len(stale)), int64(len(want)), r.life.Refresh(ctx, physical)
}

// searchableIDs is the set of rows that should have a document: from the
// set tracked during the load (MySQL's ids list drops hard deletes), or,
// without one (a resumed load), from every row's document built anew.
func (r *Reindexer) searchableIDs(ctx context.Context, name string, searchable map[uint64]bool) (map[uint64]bool, error) {
	want := map[uint64]bool{}
	if searchable != nil {
		existing, err := r.src.IDs(ctx, name)
		if err != nil {
			return nil, err
		}
		for _, id := range existing {
			if searchable[id] {
				want[id] = true
			}
		}
		return want, nil
	}
	for c, err := range r.src.Pages(ctx, name, 5000, Filter{}) {
		if err != nil {
			return nil, err
		}
		for _, d := range c.Docs {
			if d.Doc != nil {
				want[d.ID] = true
			}
		}
	}
	return want, nil
}

// differing lists, sorted, the ids in one set and not the other.
func differing(want, have map[uint64]bool) []uint64 {
	var ids []uint64
	for id := range want {
		if !have[id] {
			ids = append(ids, id)
		}
	}
	for id := range have {
		if !want[id] {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// rewrite writes the current truth of rows ids into physical (documents, or
// deletes for rows gone, not searchable or unindexable) with the version of
// the binlog position noted before reading them; visit, when set, sees each
// chunk's documents once written.
func (r *Reindexer) rewrite(ctx context.Context, name, physical string, ids []uint64, left *leftOut, visit func([]Doc)) error {
	p, _, err := r.mark(ctx)
	if err != nil {
		return err
	}
	v, err := VersionOf(p)
	if err != nil {
		return err
	}
	for i := 0; i < len(ids); i += 1000 {
		docs, err := r.readByIDs(ctx, name, ids[i:min(i+1000, len(ids))], v, left)
		if err != nil {
			return err
		}
		if _, err := r.apply(ctx, physical, docs, v, true); err != nil {
			return err
		}
		if visit != nil {
			visit(docs)
		}
	}
	return nil
}

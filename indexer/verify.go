package indexer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/elastic/go-elasticsearch/v8"
)

// Invariant 7: document ids are primary keys, so a MySQL row set and an
// index's document set can be compared at any time. Compare does it: every
// searchable row must have a document whose content hashes equal to what the
// builders make of the row now, and no other document may exist.

// Diff is the outcome of a comparison.
type Diff struct {
	Index     string
	Rows      int      // searchable rows in MySQL
	Docs      int      // documents in the index
	Missing   []uint64 // rows without a document
	Extra     []uint64 // documents without a searchable row
	Different []uint64 // documents whose content differs from the row
	// Unindexable are rows that cannot become a document (malformed JSON, a
	// value out of range): no document is right for them, as the CDC and
	// reindex leave them (their dead letters say why); not a difference.
	Unindexable []uint64
}

// Equal reports whether the index matches MySQL exactly.
func (d Diff) Equal() bool { return len(d.Missing)+len(d.Extra)+len(d.Different) == 0 }

// String is one line: "soomcare-posts: 4 rows, 5 documents; missing 0,
// extra 1 (id 17), different 2 (ids 3, 5)" — each count followed by the ids
// (the first five of more, "first ids 1, 2, …").
func (d Diff) String() string {
	bad := ""
	if len(d.Unindexable) > 0 {
		bad = "; rows that cannot become a document " + sample(d.Unindexable) + " (soomcare cdc dead-letters list)"
	}
	if d.Equal() {
		return fmt.Sprintf("%s: equal (%d documents)%s", d.Index, d.Docs, bad)
	}
	return fmt.Sprintf("%s: %d rows, %d documents; missing %s, extra %s, different %s%s", d.Index, d.Rows, d.Docs,
		sample(d.Missing), sample(d.Extra), sample(d.Different), bad)
}

func sample(ids []uint64) string {
	if len(ids) == 0 {
		return "0"
	}
	parts := make([]string, 0, 5)
	for _, id := range ids[:min(5, len(ids))] {
		parts = append(parts, strconv.FormatUint(id, 10))
	}
	label := "ids "
	switch {
	case len(ids) == 1:
		label = "id "
	case len(ids) > 5:
		label, parts = "first ids ", append(parts, "…")
	}
	return fmt.Sprintf("%d (%s%s)", len(ids), label, strings.Join(parts, ", "))
}

// Compare checks the index (alias or physical) behind logical index name
// against the rows of src. Refresh the index first for an exact answer.
func Compare(ctx context.Context, es *elasticsearch.Client, src *Source, index, name string) (Diff, error) {
	d := Diff{Index: index}
	want, err := rowHashes(ctx, src, name, &d)
	if err != nil {
		return d, err
	}
	d.Rows = len(want)
	seen := map[uint64]bool{}
	err = walk(ctx, es, index, true, func(hits []Hit) error {
		return d.compareHits(hits, want, seen)
	})
	if err != nil {
		return d, err
	}
	// The page walk must have seen what the engine counts; otherwise the
	// comparison says nothing (an index changing under it, say).
	if n, err := countDocs(ctx, es, index); err != nil {
		return d, err
	} else if n != int64(d.Docs) {
		return d, fmt.Errorf("compare %s: walked %d documents but the index counts %d; is it still being written?", index, d.Docs, n)
	}
	for id := range want {
		if !seen[id] {
			d.Missing = append(d.Missing, id)
		}
	}
	slices.Sort(d.Missing)
	slices.Sort(d.Extra)
	slices.Sort(d.Different)
	return d, nil
}

// rowHashes hashes the document every searchable row makes now; the rows
// that cannot become one go to d.Unindexable.
func rowHashes(ctx context.Context, src *Source, name string, d *Diff) (map[uint64][32]byte, error) {
	want := map[uint64][32]byte{}
	for c, err := range src.Pages(ctx, name, 2000, Filter{}) {
		if err != nil {
			return nil, err
		}
		for _, b := range c.Bad {
			d.Unindexable = append(d.Unindexable, b.ID)
		}
		for _, doc := range c.Docs {
			if doc.Doc == nil {
				continue
			}
			h, err := contentHash(doc.Doc)
			if err != nil {
				return nil, err
			}
			want[doc.ID] = h
		}
	}
	return want, nil
}

// compareHits checks one page of the index's documents against want,
// noting each id in seen.
func (d *Diff) compareHits(hits []Hit, want map[uint64][32]byte, seen map[uint64]bool) error {
	for _, h := range hits {
		id, err := strconv.ParseUint(h.ID, 10, 64)
		if err != nil {
			return fmt.Errorf("compare %s: document id %q is not a primary key", d.Index, h.ID)
		}
		d.Docs++
		seen[id] = true
		wh, ok := want[id]
		if !ok {
			d.Extra = append(d.Extra, id)
			continue
		}
		gh, err := contentHash(h.Source)
		if err != nil {
			return err
		}
		if gh != wh {
			d.Different = append(d.Different, id)
		}
	}
	return nil
}

// contentHash hashes a document in canonical form (sorted keys, numbers as
// decoded), so field order and number formatting do not matter.
func contentHash(raw json.RawMessage) ([32]byte, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return [32]byte{}, fmt.Errorf("decode document: %w", err)
	}
	canon, err := json.Marshal(v) // maps marshal with sorted keys
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(canon), nil
}

func countDocs(ctx context.Context, es *elasticsearch.Client, index string) (int64, error) {
	res, err := es.Count(es.Count.WithContext(ctx), es.Count.WithIndex(index))
	var body struct {
		Count int64 `json:"count"`
	}
	if err := readJSON(res, err, "count "+index, &body); err != nil {
		return 0, err
	}
	return body.Count, nil
}

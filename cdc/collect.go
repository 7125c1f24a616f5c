package cdc

import (
	"context"
	"slices"

	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/mappings"
)

// A flush's first stage: what the pending events name, re-read from MySQL
// (the rows' current state, each bad row a dead letter), and the fan-out of
// changed users into the documents that carry their nickname.

// collect re-reads every pending key (and the fan-out of changed users) and
// turns it into index or delete operations carrying the event's version. The
// reads are locking reads (indexer.NewLockingSource): they wait for the
// commits the binlog already announced. A row that cannot become a document
// is a dead letter, and its document is deleted (search never shows a state
// older than the row): one bad row never stops the stream.
func (a *applier) collect(ctx context.Context) ([]bulk.Op, []DeadLetter, error) {
	var (
		ops  []bulk.Op
		dead []DeadLetter
	)
	for _, index := range []string{mappings.Users, mappings.Contents, mappings.Posts} {
		byID := a.pending[index]
		if len(byID) == 0 {
			continue
		}
		ids := make([]uint64, 0, len(byID))
		for id := range byID {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		alias := a.aliasOf(index)
		for i := 0; i < len(ids); i += 1000 {
			chunk := ids[i:min(i+1000, len(ids))]
			docs, bad, err := a.read(ctx, index, chunk)
			if err != nil {
				return nil, nil, err
			}
			for _, d := range docs {
				ops = append(ops, d.Op(alias, byID[d.ID].version))
			}
			for _, b := range bad {
				op, dl := poisoned(alias, b, byID[b.ID].version)
				ops, dead = append(ops, op), append(dead, dl)
			}
		}
		if index == mappings.Users && len(a.users) > 0 {
			fan, fdead, err := a.fanOut(ctx)
			if err != nil {
				return nil, nil, err
			}
			ops, dead = append(ops, fan...), append(dead, fdead...)
		}
	}
	return ops, dead, nil
}

// read re-reads one chunk, retrying failed reads (not bad rows) forever.
func (a *applier) read(ctx context.Context, index string, ids []uint64) ([]indexer.Doc, []indexer.RowError, error) {
	var (
		docs []indexer.Doc
		bad  []indexer.RowError
	)
	err := retry(ctx, a.logger, a.metrics, "read rows", func() error {
		var rerr error
		docs, bad, rerr = a.reader.ByIDsRows(ctx, index, ids)
		return rerr
	})
	return docs, bad, err
}

// poisoned is what a row that cannot become a document turns into: a delete
// of its document at the event's version, and a dead letter (no row content).
func poisoned(alias string, b indexer.RowError, version int64) (bulk.Op, DeadLetter) {
	id := indexer.DocID(b.ID)
	return bulk.Op{Action: bulk.ActionDelete, Index: alias, ID: id, Version: version},
		DeadLetter{Index: alias, DocID: id, Action: string(bulk.ActionIndex), Source: DeadLetterRow, Version: version,
			Type: "row_error", Reason: b.Reason}
}

// fanOut re-indexes the posts and contents of changed users (their nickname
// or status is denormalised there), in bounded pages.
func (a *applier) fanOut(ctx context.Context) ([]bulk.Op, []DeadLetter, error) {
	users := make([]uint64, 0, len(a.users))
	for id := range a.users {
		users = append(users, id)
	}
	slices.Sort(users)
	var (
		ops  []bulk.Op
		dead []DeadLetter
	)
	for _, index := range []string{mappings.Posts, mappings.Contents} {
		alias := a.aliasOf(index)
		own := a.pending[index] // documents the batch already writes
		for i := 0; i < len(users); i += 500 {
			chunk := users[i:min(i+500, len(users))]
			v := int64(0)
			for _, u := range chunk {
				v = max(v, a.users[u])
			}
			var after uint64
			for {
				var ids []uint64
				err := retry(ctx, a.logger, a.metrics, "fan-out query", func() error {
					var qerr error
					ids, qerr = a.fanout.IDsByUser(ctx, index, chunk, after, 1000)
					return qerr
				})
				if err != nil {
					return nil, nil, err
				}
				if len(ids) == 0 {
					break
				}
				after = ids[len(ids)-1]
				ids = slices.DeleteFunc(ids, func(id uint64) bool {
					if p := own[id]; p != nil { // written by the own-row pass, which reads after this user's commit
						p.version = max(p.version, v)
						return true
					}
					return false
				})
				docs, bad, err := a.read(ctx, index, ids)
				if err != nil {
					return nil, nil, err
				}
				for _, d := range docs {
					ops = append(ops, d.Op(alias, v))
				}
				for _, b := range bad {
					op, dl := poisoned(alias, b, v)
					ops, dead = append(ops, op), append(dead, dl)
				}
			}
		}
	}
	return ops, dead, nil
}

package indexer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/mysql"
)

// Source reads the rows of a logical index from MySQL in keyset-paginated
// pages and turns them into documents with the builders in docs.go.
type Source struct {
	db   *sql.DB
	lock string // appended to by-id and fan-out reads
}

// NewSource returns a source over db.
func NewSource(db *sql.DB) *Source { return &Source{db: db} }

// NewLockingSource returns a source whose by-id and fan-out reads are locking
// reads (LOCK IN SHARE MODE, released when the statement ends). The binlog can
// reach a replica before the transaction's commit is visible to other
// sessions; a locking read waits for such a transaction's row locks and reads
// the latest committed rows, so a row the CDC was told about is never read
// stale or missing. The CDC uses it; bulk loads do not need it.
func NewLockingSource(db *sql.DB) *Source { return &Source{db: db, lock: " LOCK IN SHARE MODE"} }

// Doc is one row's document; Doc nil means the row must not be searchable.
type Doc struct {
	ID  uint64
	Doc json.RawMessage
}

// Op is the write that makes index match this row: the document, or a
// delete when the row is gone or not searchable.
func (d Doc) Op(index string, version int64) bulk.Op {
	if d.Doc == nil {
		return bulk.Op{Action: bulk.ActionDelete, Index: index, ID: DocID(d.ID), Version: version}
	}
	return bulk.Op{Action: bulk.ActionIndex, Index: index, ID: DocID(d.ID), Version: version, Doc: d.Doc}
}

// Filter narrows a page: rows changed at or after Since (zero: all rows).
type Filter struct {
	Since time.Time
}

const (
	contentsSelect = `SELECT c.id, COALESCE(u.nickname, ''), c.title, c.summary, c.body, c.category, c.tags,
       c.status, c.published_at, c.updated_at, c.deleted_at
  FROM contents c LEFT JOIN users u ON u.id = c.author_id`
	contentsSince = `(c.updated_at >= ? OR u.updated_at >= ?)`

	// STRAIGHT_JOIN: posts first, read in primary-key order up to the page's
	// limit; left to itself the optimizer may start from users and sort every
	// post above the cursor for each page (TestIntegrationPostsPageReadsPostsInOrder).
	postsSelect = `SELECT p.id, p.user_id, u.nickname, u.status, u.deleted_at IS NOT NULL, p.category, p.title, p.body,
       p.like_count, p.comment_count, p.status, p.created_at, p.updated_at, p.deleted_at
  FROM posts p STRAIGHT_JOIN users u ON u.id = p.user_id`
	postsSince = `(p.updated_at >= ? OR u.updated_at >= ?)`

	usersSelect = `SELECT u.id, u.nickname, u.bio, u.status, u.created_at, u.deleted_at FROM users u`
	usersSince  = `(u.updated_at >= ? OR u.updated_at >= ?)`
)

func queryParts(name string) (sel, since, idCol string, err error) {
	switch name {
	case mappings.Contents:
		return contentsSelect, contentsSince, "c.id", nil
	case mappings.Posts:
		return postsSelect, postsSince, "p.id", nil
	case mappings.Users:
		return usersSelect, usersSince, "u.id", nil
	}
	return "", "", "", fmt.Errorf("%w %q (known: %v)", mappings.ErrUnknownIndex, name, mappings.Names())
}

// Table returns the MySQL table behind a logical index.
func Table(name string) (string, error) {
	if _, _, _, err := queryParts(name); err != nil {
		return "", err
	}
	return name, nil // the logical names are the table names
}

// CountRows returns the number of rows in the index's table (for progress).
func (s *Source) CountRows(ctx context.Context, name string) (int64, error) {
	table, err := Table(name)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", table, err)
	}
	return n, nil
}

// Chunk is one page of rows: the documents of the rows that became one, the
// rows that cannot (Bad: a poisoned row has no document, as in the CDC), and
// the last id read (0 when the page is empty: the end).
type Chunk struct {
	Docs []Doc
	Bad  []RowError
	Last uint64
}

// Page returns up to limit rows with id > after, in id order. err is a
// failed read (worth retrying) or a row whose very id cannot be read (the
// page cannot move past it); a row that cannot become a document is in
// Chunk.Bad and the page goes on.
func (s *Source) Page(ctx context.Context, name string, after uint64, limit int, f Filter) (Chunk, error) {
	sel, since, idCol, err := queryParts(name)
	if err != nil {
		return Chunk{}, err
	}
	q, args := pageQuery(sel, since, idCol, after, limit, f)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return Chunk{}, fmt.Errorf("read %s: %w", name, err)
	}
	defer rows.Close()
	var c Chunk
	for rows.Next() {
		d, err := scanDoc(name, rows)
		var re *RowError
		if errors.As(err, &re) && re.ID != 0 {
			c.Bad, c.Last = append(c.Bad, *re), re.ID
			continue
		}
		if err != nil {
			return Chunk{}, fmt.Errorf("read %s after id %d: %w", name, c.Last, err)
		}
		c.Docs, c.Last = append(c.Docs, d), d.ID
	}
	if err := rows.Err(); err != nil {
		return Chunk{}, fmt.Errorf("read %s: %w", name, err)
	}
	return c, nil
}

// Pages reads every row of name in id order, limit rows a page, for a range
// loop: each page with a nil error until the last; a failed read (as Page's)
// is yielded once and ends the loop.
func (s *Source) Pages(ctx context.Context, name string, limit int, f Filter) iter.Seq2[Chunk, error] {
	return func(yield func(Chunk, error) bool) {
		for after := uint64(0); ; {
			c, err := s.Page(ctx, name, after, limit, f)
			if err != nil {
				yield(Chunk{}, err)
				return
			}
			if c.Last == 0 || !yield(c, nil) {
				return
			}
			after = c.Last
		}
	}
}

// WithoutDocs is the chunk's documents with each bad row as a row without a
// document (Doc nil: a delete where deletes are written).
func (c Chunk) WithoutDocs() []Doc {
	if len(c.Bad) == 0 {
		return c.Docs
	}
	docs := slices.Clip(c.Docs)
	for _, b := range c.Bad {
		docs = append(docs, Doc{ID: b.ID})
	}
	return docs
}

// pageQuery is Page's statement: rows with id > after (changed since
// f.Since), in id order, at most limit.
func pageQuery(sel, since, idCol string, after uint64, limit int, f Filter) (string, []any) {
	q := sel + " WHERE " + idCol + " > ?"
	args := []any{after}
	if !f.Since.IsZero() {
		q += " AND " + since
		args = append(args, f.Since, f.Since)
	}
	q += " ORDER BY " + idCol + " LIMIT ?"
	return q, append(args, limit)
}

// ByIDs returns the documents of the given primary keys; ids with no row come
// back with a nil Doc (hard-deleted rows). A row that cannot become a
// document fails the call with an error wrapping *RowError; ByIDsRows
// reports such rows one by one instead.
func (s *Source) ByIDs(ctx context.Context, name string, ids []uint64) ([]Doc, error) {
	docs, bad, err := s.ByIDsRows(ctx, name, ids)
	if err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("read %s by id: %w", name, &bad[0])
	}
	return docs, nil
}

// ByIDsRows is ByIDs that tells a row from a read: docs holds the good rows
// (and nil Docs for ids with no row), bad the rows that cannot become a
// document (malformed JSON, a value out of a field's range), and err only
// failures that are not a row's (query, connection), worth retrying.
func (s *Source) ByIDsRows(ctx context.Context, name string, ids []uint64) (docs []Doc, bad []RowError, err error) {
	if len(ids) == 0 {
		return nil, nil, nil
	}
	sel, _, idCol, err := queryParts(name)
	if err != nil {
		return nil, nil, err
	}
	q := sel + " WHERE " + idCol + " IN " + mysql.Placeholders(len(ids)) + s.lock
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s by id: %w", name, err)
	}
	defer rows.Close()
	found := make(map[uint64]Doc, len(ids))
	failed := map[uint64]bool{}
	unknown := false // a row whose id could not be read: absent ids may be it
	for rows.Next() {
		d, err := scanDoc(name, rows)
		var re *RowError
		if errors.As(err, &re) {
			bad = append(bad, *re)
			failed[re.ID] = true
			unknown = unknown || re.ID == 0
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read %s by id: %w", name, err)
		}
		found[d.ID] = d
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read %s by id: %w", name, err)
	}
	docs = make([]Doc, 0, len(ids))
	for _, id := range ids {
		if failed[id] {
			continue
		}
		d, ok := found[id]
		if !ok && unknown {
			bad = append(bad, RowError{ID: id, Reason: "a row with an unreadable id was read with this id's batch"})
			continue
		}
		d.ID = id
		docs = append(docs, d)
	}
	if unknown {
		bad = slices.DeleteFunc(bad, func(r RowError) bool { return r.ID == 0 })
	}
	return docs, bad, nil
}

// scanDoc reads one row into its document. A failure of the row itself (a
// value that does not convert, malformed JSON, a builder error) is a
// *RowError whose reason never quotes the row's content.
func scanDoc(name string, rows *sql.Rows) (Doc, error) {
	d, err := buildDoc(name, rows)
	if err != nil {
		return Doc{}, &RowError{ID: d.ID, Reason: safeReason(err)}
	}
	return d, nil
}

// buildDoc scans and builds; on error Doc.ID is the row's id when it could be read.
func buildDoc(name string, rows *sql.Rows) (Doc, error) {
	var (
		doc json.RawMessage
		ok  bool
		err error
		id  uint64
	)
	switch name {
	case mappings.Contents:
		var r ContentRow
		var tags []byte
		if err := rows.Scan(&r.ID, &r.AuthorNickname, &r.Title, &r.Summary, &r.Body, &r.Category, &tags,
			&r.Status, &r.PublishedAt, &r.UpdatedAt, &r.DeletedAt); err != nil {
			return Doc{ID: rescanID(rows)}, err
		}
		if len(tags) > 0 {
			if err := json.Unmarshal(tags, &r.Tags); err != nil {
				return Doc{ID: r.ID}, &columnError{column: "tags", err: err}
			}
		}
		id = r.ID
		doc, ok, err = ContentDoc(r)
	case mappings.Posts:
		var r PostRow
		if err := rows.Scan(&r.ID, &r.UserID, &r.AuthorNickname, &r.AuthorStatus, &r.AuthorDeleted, &r.Category,
			&r.Title, &r.Body, &r.LikeCount, &r.CommentCount, &r.Status, &r.CreatedAt, &r.UpdatedAt, &r.DeletedAt); err != nil {
			return Doc{ID: rescanID(rows)}, err
		}
		id = r.ID
		doc, ok, err = PostDoc(r)
	case mappings.Users:
		var r UserRow
		if err := rows.Scan(&r.ID, &r.Nickname, &r.Bio, &r.Status, &r.CreatedAt, &r.DeletedAt); err != nil {
			return Doc{ID: rescanID(rows)}, err
		}
		id = r.ID
		doc, ok, err = UserDoc(r)
	}
	if err != nil {
		return Doc{ID: id}, fmt.Errorf("build document: %w", err)
	}
	if !ok {
		doc = nil
	}
	return Doc{ID: id, Doc: doc}, nil
}

// rescanID reads the id (first column) of a row whose full scan failed; 0
// when even that fails.
func rescanID(rows *sql.Rows) uint64 {
	cols, err := rows.Columns()
	if err != nil || len(cols) == 0 {
		return 0
	}
	var id uint64
	dest := make([]any, len(cols))
	dest[0] = &id
	for i := 1; i < len(dest); i++ {
		dest[i] = new(any)
	}
	if rows.Scan(dest...) != nil {
		return 0
	}
	return id
}

// IDsByUser lists, in id order after `after`, the ids of documents of index
// that denormalise one of users (posts by user_id, contents by author_id):
// the CDC's bounded fan-out of a nickname change.
func (s *Source) IDsByUser(ctx context.Context, index string, users []uint64, after uint64, limit int) ([]uint64, error) {
	if len(users) == 0 {
		return nil, nil
	}
	var q string
	switch index {
	case mappings.Posts:
		q = "SELECT id FROM posts WHERE user_id IN " + mysql.Placeholders(len(users)) + " AND id > ? ORDER BY id LIMIT ?" + s.lock
	case mappings.Contents:
		q = "SELECT id FROM contents WHERE author_id IN " + mysql.Placeholders(len(users)) + " AND id > ? ORDER BY id LIMIT ?" + s.lock
	default:
		return nil, fmt.Errorf("%w %q has no per-user fan-out", mappings.ErrUnknownIndex, index)
	}
	args := make([]any, 0, len(users)+2)
	for _, u := range users {
		args = append(args, u)
	}
	args = append(args, after, limit)
	ids, err := mysql.QueryIDs(ctx, s.db, q, args...)
	if err != nil {
		return nil, fmt.Errorf("fan-out %s: %w", index, err)
	}
	return ids, nil
}

// IDs lists every primary key of the index's table, ascending.
func (s *Source) IDs(ctx context.Context, name string) ([]uint64, error) {
	table, err := Table(name)
	if err != nil {
		return nil, err
	}
	ids, err := mysql.QueryIDs(ctx, s.db, "SELECT id FROM "+table+" ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list ids of %s: %w", table, err)
	}
	return ids, nil
}

// RowError is a row that cannot become a document: the row's fault, not the
// read's, so retrying cannot help (the CDC dead-letters it and moves on).
// Reason names the column and the kind of fault, never the row's content.
type RowError struct {
	ID     uint64 // 0 when even the id could not be read
	Reason string
}

func (e *RowError) Error() string { return fmt.Sprintf("row %d: %s", e.ID, e.Reason) }

// columnError is a JSON column whose value does not decode.
type columnError struct {
	column string
	err    error
}

func (e *columnError) Error() string { return "column " + e.column + ": " + e.err.Error() }
func (e *columnError) Unwrap() error { return e.err }

// safeReason describes a row's build failure without quoting the row: JSON
// and conversion errors can carry the offending text, so only their kind,
// offset and column are kept.
func safeReason(err error) string {
	var (
		ce  *columnError
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	if errors.As(err, &ce) {
		switch {
		case errors.As(err, &syn):
			return fmt.Sprintf("column %s: malformed JSON at byte %d", ce.column, syn.Offset)
		case errors.As(err, &typ):
			kind, _, _ := strings.Cut(typ.Value, " ") // "number 1e999" quotes the value
			return fmt.Sprintf("column %s: JSON %s where %s was expected", ce.column, kind, typ.Type)
		}
		return fmt.Sprintf("column %s: value does not decode", ce.column)
	}
	// database/sql: `sql: Scan error on column index N, name "col": converting … "value" …`
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, `Scan error on column index `); ok {
		if _, name, ok := strings.Cut(rest, `name "`); ok {
			if col, _, ok := strings.Cut(name, `"`); ok {
				return "column " + col + ": value does not convert to the document's field (out of range or wrong type)"
			}
		}
		return "a column's value does not convert to the document's field"
	}
	if errors.Is(err, errCountRange) { // the builders' own message: no row text
		return errCountRange.Error()
	}
	return fmt.Sprintf("the document could not be built (%T)", errors.Unwrap(err))
}

package cdc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/soomcare/soomcare/mysql"
)

// State is the durable progress of one pipeline (table cdc_state).
type State struct {
	Phase    string // "snapshot" | "streaming"
	Position mysql.Position
	GTIDSet  string
	// Server is the server whose binlog Position is in (mysql.BinlogServer);
	// "" on checkpoints saved before it was recorded.
	Server string
	// Snapshot progress: the index being loaded, how far, and which are done.
	SnapshotIndex    string
	SnapshotPhysical string
	SnapshotLastID   uint64
	SnapshotDone     []string
	SnapshotSince    time.Time
	EventsApplied    int64
	DocsWritten      int64
	Conflicts        int64
	UpdatedAt        time.Time
}

// Phases.
const (
	PhaseSnapshot  = "snapshot"
	PhaseStreaming = "streaming"
)

// Store reads and writes State in MySQL.
type Store struct {
	db     *sql.DB
	name   string
	binlog *sql.DB // the server whose binlog the checkpoint points into (WithBinlog); nil: db
	fence  *fence  // set on the active worker's store (Fenced): writes require the lock
}

// fence is the single-worker lock a store's writes are conditional on: its
// name and the holder's fencing token, the lock connection's CONNECTION_ID().
type fence struct {
	lock  string
	token int64
}

// ErrFenced means MySQL refused a write because this worker no longer holds
// the single-worker lock (another worker may hold it now): nothing was
// written, and the worker must stop applying.
var ErrFenced = errors.New("write refused: this worker no longer holds the single-worker lock")

// Fenced returns a copy of the store whose checkpoint saves and dead-letter
// writes are single statements guarded by IS_USED_LOCK(lock) = token: MySQL
// itself refuses them (ErrFenced) once another connection holds the lock.
func (s *Store) Fenced(lock string, token int64) *Store {
	c := *s
	c.fence = &fence{lock: lock, token: token}
	return &c
}

// guard is the condition (and its arguments) of a fenced write, after join
// (" WHERE " or " AND "); "" when the store is not fenced (CLI tools, tests).
func (s *Store) guard(join string) (string, []any) {
	if s.fence == nil {
		return "", nil
	}
	return join + "IS_USED_LOCK(?) = ?", []any{s.fence.lock, s.fence.token}
}

// LockToken returns the fencing token of a lock this process just acquired:
// the id of the connection holding it (IS_USED_LOCK). held is then asked, so
// a lock lost between the two is never mistaken for ours.
func LockToken(ctx context.Context, db *sql.DB, lock string, held func(context.Context) error) (int64, error) {
	var token sql.NullInt64
	if err := db.QueryRowContext(ctx, "SELECT IS_USED_LOCK(?)", lock).Scan(&token); err != nil {
		return 0, fmt.Errorf("fencing token of %s: %w", lock, err)
	}
	if err := held(ctx); err != nil {
		return 0, err
	}
	if !token.Valid {
		return 0, fmt.Errorf("fencing token of %s: %w", lock, ErrFenced)
	}
	return token.Int64, nil
}

// NewStore returns the store of pipeline name.
func NewStore(db *sql.DB, name string) *Store { return &Store{db: db, name: name} }

// WithBinlog tells the store that the checkpoints are positions in source's
// binlog (cdc.source_dsn, a replica): Status compares them with source's.
func (s *Store) WithBinlog(source *sql.DB) *Store {
	s.binlog = source
	return s
}

func (s *Store) binlogDB() *sql.DB {
	if s.binlog != nil {
		return s.binlog
	}
	return s.db
}

// ErrNoState means the pipeline has never run (a snapshot comes first).
var ErrNoState = errors.New("no checkpoint yet")

// Load returns the saved state or ErrNoState.
func (s *Store) Load(ctx context.Context) (State, error) {
	var (
		st    State
		gtid  sql.NullString
		done  string
		since sql.NullTime
	)
	err := s.db.QueryRowContext(ctx, `SELECT phase, binlog_file, binlog_pos, gtid_set, source_server, snapshot_index, snapshot_physical,
	        snapshot_last_id, snapshot_done, snapshot_since, events_applied, docs_written, conflicts, updated_at
	   FROM cdc_state WHERE name = ?`, s.name).Scan(&st.Phase, &st.Position.File, &st.Position.Pos, &gtid, &st.Server,
		&st.SnapshotIndex, &st.SnapshotPhysical, &st.SnapshotLastID, &done, &since, &st.EventsApplied, &st.DocsWritten,
		&st.Conflicts, &st.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return State{}, ErrNoState
	}
	if err != nil {
		return State{}, fmt.Errorf("load cdc_state %s: %w", s.name, err)
	}
	st.GTIDSet = gtid.String
	if done != "" {
		st.SnapshotDone = strings.Split(done, ",")
	}
	if since.Valid {
		st.SnapshotSince = since.Time
	}
	return st, nil
}

// Save writes the whole state; on a fenced store only while the lock is
// held (ErrFenced otherwise).
func (s *Store) Save(ctx context.Context, st State) error {
	var since any
	if !st.SnapshotSince.IsZero() {
		since = st.SnapshotSince
	}
	guard, gargs := s.guard(" WHERE ")
	args := []any{s.name, st.Phase, st.Position.File, st.Position.Pos, st.GTIDSet, st.Server, st.SnapshotIndex, st.SnapshotPhysical,
		st.SnapshotLastID, strings.Join(st.SnapshotDone, ","), since, st.EventsApplied, st.DocsWritten, st.Conflicts}
	// updated_at is set explicitly so that a save always affects a row: 0
	// rows affected means the guard refused it.
	res, err := s.db.ExecContext(ctx, `INSERT INTO cdc_state (name, phase, binlog_file, binlog_pos, gtid_set, source_server, snapshot_index,
	        snapshot_physical, snapshot_last_id, snapshot_done, snapshot_since, events_applied, docs_written, conflicts)
	 SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM DUAL`+guard+`
	 ON DUPLICATE KEY UPDATE phase = VALUES(phase), binlog_file = VALUES(binlog_file), binlog_pos = VALUES(binlog_pos),
	        gtid_set = VALUES(gtid_set), source_server = VALUES(source_server), snapshot_index = VALUES(snapshot_index), snapshot_physical = VALUES(snapshot_physical),
	        snapshot_last_id = VALUES(snapshot_last_id), snapshot_done = VALUES(snapshot_done),
	        snapshot_since = VALUES(snapshot_since), events_applied = VALUES(events_applied),
	        docs_written = VALUES(docs_written), conflicts = VALUES(conflicts), updated_at = CURRENT_TIMESTAMP(6)`,
		append(args, gargs...)...)
	if err != nil {
		return fmt.Errorf("save cdc_state %s: %w", s.name, err)
	}
	return s.checkFence(res, "save cdc_state "+s.name)
}

// checkFence turns a fenced write that touched no row into ErrFenced.
func (s *Store) checkFence(res sql.Result, what string) error {
	if s.fence == nil {
		return nil
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w (lock %s, token %d)", what, ErrFenced, s.fence.lock, s.fence.token)
	}
	return nil
}

// Reset deletes the state so the next run snapshots again.
func (s *Store) Reset(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, "DELETE FROM cdc_state WHERE name = ?", s.name); err != nil {
		return fmt.Errorf("reset cdc_state %s: %w", s.name, err)
	}
	return nil
}

// DeadLetter is a document the engine rejected (Source "engine") or a row
// that could not become a document (Source "row"). Reason never carries the
// row's content.
type DeadLetter struct {
	Index, DocID, Action string
	Source               string // DeadLetterEngine | DeadLetterRow
	Version              int64  // the event's binlog position (indexer.VersionOf)
	Status               int
	Type, Reason         string
}

// Dead-letter sources (bounded: the counter's label).
const (
	DeadLetterEngine = "engine"
	DeadLetterRow    = "row"
)

// DocKey names one document: alias (as the dead letters record it) and id.
type DocKey struct{ Index, DocID string }

// RecordDeadLetters stores dead letters in one statement (fenced: only while
// the lock is held).
func (s *Store) RecordDeadLetters(ctx context.Context, dl []DeadLetter) error {
	_, err := s.recordDeadLetters(ctx, dl, false)
	return err
}

// recordDeadLetters inserts dl; with onlyNew, none for a document that
// already has an open dead letter. It returns how many rows it inserted.
func (s *Store) recordDeadLetters(ctx context.Context, dl []DeadLetter, onlyNew bool) (int64, error) {
	if len(dl) == 0 {
		return 0, nil
	}
	var q strings.Builder
	q.WriteString("INSERT INTO cdc_dead_letters (pipeline, index_name, doc_id, source, action, version, status, error_type, reason) SELECT * FROM (")
	args := make([]any, 0, len(dl)*9+2)
	for i, d := range dl {
		if i > 0 {
			q.WriteString(" UNION ALL ")
		}
		q.WriteString("SELECT ? AS p, ? AS i, ? AS d, ? AS s, ? AS a, ? AS v, ? AS st, ? AS t, ? AS r")
		source := d.Source
		if source == "" {
			source = DeadLetterEngine
		}
		args = append(args, s.name, d.Index, d.DocID, source, d.Action, d.Version, d.Status, d.Type, d.Reason)
	}
	q.WriteString(") dl")
	join := " WHERE "
	if onlyNew {
		q.WriteString(" WHERE NOT EXISTS (SELECT 1 FROM cdc_dead_letters o WHERE o.pipeline = dl.p AND o.index_name = dl.i AND o.doc_id = dl.d AND o.resolved_at IS NULL)")
		join = " AND "
	}
	guard, gargs := s.guard(join)
	q.WriteString(guard)
	res, err := s.db.ExecContext(ctx, q.String(), append(args, gargs...)...)
	if err != nil {
		return 0, fmt.Errorf("record dead letters: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("record dead letters: %w", err)
	}
	if n == 0 && onlyNew && s.fence != nil {
		return 0, s.stillHeld(ctx, "record dead letters") // nothing new, or fenced out: tell which
	}
	return n, s.checkFence(res, "record dead letters")
}

// stillHeld is the fence asked directly: ErrFenced when another connection
// holds the lock (for a write whose zero rows affected do not tell).
func (s *Store) stillHeld(ctx context.Context, what string) error {
	if s.fence == nil {
		return nil
	}
	var held sql.NullBool
	if err := s.db.QueryRowContext(ctx, "SELECT IS_USED_LOCK(?) = ?", s.fence.lock, s.fence.token).Scan(&held); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if !held.Bool {
		return fmt.Errorf("%s: %w (lock %s, token %d)", what, ErrFenced, s.fence.lock, s.fence.token)
	}
	return nil
}

// ResolveDeadLetters marks the open dead letters of docs resolved: a later
// state of those rows was acknowledged by the engine. Fenced like the rest.
func (s *Store) ResolveDeadLetters(ctx context.Context, docs []DocKey) error {
	if len(docs) == 0 {
		return nil
	}
	q := "UPDATE cdc_dead_letters SET resolved_at = CURRENT_TIMESTAMP(6) WHERE pipeline = ? AND resolved_at IS NULL AND (index_name, doc_id) IN ((?, ?)" +
		strings.Repeat(", (?, ?)", len(docs)-1) + ")"
	args := make([]any, 0, len(docs)*2+3)
	args = append(args, s.name)
	for _, d := range docs {
		args = append(args, d.Index, d.DocID)
	}
	guard, gargs := s.guard(" AND ")
	if _, err := s.db.ExecContext(ctx, q+guard, append(args, gargs...)...); err != nil {
		return fmt.Errorf("resolve dead letters: %w", err)
	}
	return nil
}

// OpenDeadLetterDocs lists the documents with an open dead letter: the
// applier resolves them when a later state is acknowledged.
func (s *Store) OpenDeadLetterDocs(ctx context.Context) ([]DocKey, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT DISTINCT index_name, doc_id FROM cdc_dead_letters WHERE pipeline = ? AND resolved_at IS NULL", s.name)
	if err != nil {
		return nil, fmt.Errorf("open dead letters: %w", err)
	}
	defer rows.Close()
	var out []DocKey
	for rows.Next() {
		var k DocKey
		if err := rows.Scan(&k.Index, &k.DocID); err != nil {
			return nil, fmt.Errorf("open dead letters: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// DeadLetterCount returns how many open (unresolved) dead letters the pipeline has.
func (s *Store) DeadLetterCount(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM cdc_dead_letters WHERE pipeline = ? AND resolved_at IS NULL", s.name).Scan(&n)
	return n, err
}

// DismissDeadLetters resolves the open dead letters with these ids by hand
// (an operator has dealt with them: an unreadable id, which no later change
// can heal, or a row deleted on purpose) and returns how many it closed.
func (s *Store) DismissDeadLetters(ctx context.Context, ids []int64) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	args := []any{s.name}
	for _, id := range ids {
		args = append(args, id)
	}
	res, err := s.db.ExecContext(ctx, "UPDATE cdc_dead_letters SET resolved_at = CURRENT_TIMESTAMP(6) WHERE pipeline = ? AND resolved_at IS NULL AND id IN "+
		mysql.Placeholders(len(ids)), args...)
	if err != nil {
		return 0, fmt.Errorf("dismiss dead letters: %w", err)
	}
	return res.RowsAffected()
}

// OpenDeadLettersByIndex counts the pipeline's open dead letters of each
// index (an index without one is absent).
func (s *Store) OpenDeadLettersByIndex(ctx context.Context) (map[string]int64, error) {
	type count struct {
		index string
		n     int64
	}
	counts, err := mysql.QueryAll(ctx, s.db, func(r mysql.Scanner) (c count, err error) { return c, r.Scan(&c.index, &c.n) },
		"SELECT index_name, COUNT(*) FROM cdc_dead_letters WHERE pipeline = ? AND resolved_at IS NULL GROUP BY index_name", s.name)
	if err != nil {
		return nil, fmt.Errorf("count open dead letters: %w", err)
	}
	out := make(map[string]int64, len(counts))
	for _, c := range counts {
		out[c.index] = c.n
	}
	return out, nil
}

// Beat writes the heartbeat row; its binlog event measures lag end to end.
func (s *Store) Beat(ctx context.Context, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO cdc_heartbeat (name, beat_at) VALUES (?, ?)
	  ON DUPLICATE KEY UPDATE beat_at = VALUES(beat_at)`, s.name, at.UTC())
	return err
}

// BinlogFiles lists the binlog files the server still has.
func BinlogFiles(ctx context.Context, db *sql.DB) ([]string, error) {
	logs, err := BinlogLogs(ctx, db)
	names := make([]string, len(logs))
	for i, f := range logs {
		names[i] = f.Name
	}
	return names, err
}

// BinlogLogs lists the binlog files the server still has, oldest first,
// with their sizes (SHOW BINARY LOGS: Log_name, File_size, …).
func BinlogLogs(ctx context.Context, db *sql.DB) ([]BinlogFile, error) {
	rows, err := db.QueryContext(ctx, "SHOW BINARY LOGS")
	if err != nil {
		return nil, fmt.Errorf("SHOW BINARY LOGS: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("SHOW BINARY LOGS: %w", err)
	}
	if len(cols) < 2 {
		return nil, fmt.Errorf("SHOW BINARY LOGS: %d columns, want name and size", len(cols))
	}
	var logs []BinlogFile
	for rows.Next() {
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		size, err := strconv.ParseInt(string(vals[1]), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("SHOW BINARY LOGS: size %q: %w", vals[1], err)
		}
		logs = append(logs, BinlogFile{Name: string(vals[0]), Size: size})
	}
	return logs, rows.Err()
}

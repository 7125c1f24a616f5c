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

// Save writes the whole state.
func (s *Store) Save(ctx context.Context, st State) error {
	var since any
	if !st.SnapshotSince.IsZero() {
		since = st.SnapshotSince
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO cdc_state (name, phase, binlog_file, binlog_pos, gtid_set, source_server, snapshot_index,
	        snapshot_physical, snapshot_last_id, snapshot_done, snapshot_since, events_applied, docs_written, conflicts)
	 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	 ON DUPLICATE KEY UPDATE phase = VALUES(phase), binlog_file = VALUES(binlog_file), binlog_pos = VALUES(binlog_pos),
	        gtid_set = VALUES(gtid_set), source_server = VALUES(source_server), snapshot_index = VALUES(snapshot_index), snapshot_physical = VALUES(snapshot_physical),
	        snapshot_last_id = VALUES(snapshot_last_id), snapshot_done = VALUES(snapshot_done),
	        snapshot_since = VALUES(snapshot_since), events_applied = VALUES(events_applied),
	        docs_written = VALUES(docs_written), conflicts = VALUES(conflicts)`,
		s.name, st.Phase, st.Position.File, st.Position.Pos, st.GTIDSet, st.Server, st.SnapshotIndex, st.SnapshotPhysical,
		st.SnapshotLastID, strings.Join(st.SnapshotDone, ","), since, st.EventsApplied, st.DocsWritten, st.Conflicts)
	if err != nil {
		return fmt.Errorf("save cdc_state %s: %w", s.name, err)
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

// DeadLetter is a document the engine rejected.
type DeadLetter struct {
	Index, DocID, Action string
	Version              int64
	Status               int
	Type, Reason         string
}

// RecordDeadLetters stores rejected documents in one statement.
func (s *Store) RecordDeadLetters(ctx context.Context, dl []DeadLetter) error {
	if len(dl) == 0 {
		return nil
	}
	q := "INSERT INTO cdc_dead_letters (pipeline, index_name, doc_id, action, version, status, error_type, reason) VALUES "
	args := make([]any, 0, len(dl)*8)
	for i, d := range dl {
		if i > 0 {
			q += ","
		}
		q += "(?, ?, ?, ?, ?, ?, ?, ?)"
		args = append(args, s.name, d.Index, d.DocID, d.Action, d.Version, d.Status, d.Type, d.Reason)
	}
	if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("record dead letters: %w", err)
	}
	return nil
}

// DeadLetterCount returns how many dead letters the pipeline has.
func (s *Store) DeadLetterCount(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM cdc_dead_letters WHERE pipeline = ?", s.name).Scan(&n)
	return n, err
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

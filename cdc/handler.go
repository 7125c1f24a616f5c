package cdc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-mysql-org/go-mysql/canal"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/mysql"
)

// The binlog side: canal callbacks only translate events into items and hand
// them, in binlog order, to the one goroutine that batches, writes and saves
// the checkpoint (applier.go).

// ErrTableDropped means a watched table disappeared mid-stream.
var ErrTableDropped = errors.New("a watched table was dropped")

type itemKind int

const (
	itemRows itemKind = iota + 1
	itemPos
	itemBeat
)

// key names a document to re-read: the row's current state is what gets
// indexed, so replays and reordering are harmless.
type key struct {
	index  string
	id     uint64
	fanout bool // a users row: its posts and contents carry the nickname too
}

type item struct {
	kind    itemKind
	table   string
	op      string
	keys    []key
	rows    int // row changes: an update's before and after images are one change
	version int64
	at      int64        // the event's commit time (binlog header timestamp), Unix ns; 0 unknown
	dead    []DeadLetter // rows whose id cannot be read (Index: the logical index)
	pos     mysql.Position
	gtid    string
	force   bool
	beatAt  time.Time
}

// keyColumn says which column of a watched table names the document to
// refresh, and in which index.
type keyColumn struct {
	column string
	index  string
	fanout bool
}

// watchedTables maps the tables the worker understands to their documents.
func watchedTables() map[string]keyColumn {
	return map[string]keyColumn{
		"users":      {"id", mappings.Users, true},
		"contents":   {"id", mappings.Contents, false},
		"posts":      {"id", mappings.Posts, false},
		"comments":   {"post_id", mappings.Posts, false},
		"post_likes": {"post_id", mappings.Posts, false},
	}
}

const heartbeatTable = "cdc_heartbeat"

// handler implements canal.EventHandler.
type handler struct {
	canal.DummyEventHandler
	ctx     context.Context
	out     chan<- item
	db      *sql.DB
	schema  string
	file    string // current binlog file, for versions
	tables  map[string]keyColumn
	logger  *slog.Logger
	metrics *Metrics
}

func (h *handler) String() string { return "soomcare-cdc" }

func (h *handler) send(it item) error {
	select {
	case h.out <- it:
		return nil
	case <-h.ctx.Done():
		return h.ctx.Err()
	}
}

func (h *handler) OnRotate(_ *replication.EventHeader, e *replication.RotateEvent) error {
	h.file = string(e.NextLogName)
	return nil
}

func (h *handler) OnRow(e *canal.RowsEvent) error {
	table := e.Table.Name
	if table == heartbeatTable {
		col := e.Table.FindColumn("beat_at")
		if col < 0 || len(e.Rows) == 0 {
			return nil
		}
		row := e.Rows[len(e.Rows)-1]
		if col < len(row) {
			if t, ok := row[col].(time.Time); ok {
				return h.send(item{kind: itemBeat, beatAt: t})
			}
		}
		return nil
	}
	kc, ok := h.tables[table]
	if !ok {
		return nil
	}
	col := e.Table.FindColumn(kc.column)
	if col < 0 {
		return fmt.Errorf("table %s has no column %s: the CDC cannot key its documents", table, kc.column)
	}
	version, err := indexer.VersionOf(mysql.Position{File: h.file, Pos: e.Header.LogPos})
	if err != nil {
		return err
	}
	keys := make([]key, 0, len(e.Rows))
	var dead []DeadLetter
	for _, row := range e.Rows { // updates carry before and after images: both ids (a key change is delete + insert)
		var v any
		if col < len(row) {
			v = row[col]
		}
		id, ok := toUint(v)
		if !ok {
			// Never skipped silently: a dead letter (the value's type only,
			// never the row) recorded before the checkpoint passes it.
			dead = append(dead, DeadLetter{Index: kc.index, Action: string(bulk.ActionIndex), Source: DeadLetterRow,
				Version: version, Type: "unreadable_id", Reason: fmt.Sprintf("table %s: column %s is not an unsigned integer (%T)", table, kc.column, v)})
			continue
		}
		keys = append(keys, key{index: kc.index, id: id, fanout: kc.fanout})
	}
	rows := rowCount(e)
	h.metrics.Events.WithLabelValues(table, e.Action).Add(float64(rows))
	var at int64
	if e.Header != nil {
		at = int64(e.Header.Timestamp) * int64(time.Second)
	}
	return h.send(item{kind: itemRows, table: table, op: e.Action, keys: keys, rows: rows, version: version, at: at, dead: dead})
}

func rowCount(e *canal.RowsEvent) int {
	if e.Action == canal.UpdateAction {
		return len(e.Rows) / 2
	}
	return len(e.Rows)
}

func toUint(v any) (uint64, bool) {
	switch n := v.(type) {
	case uint64:
		return n, true
	case int64:
		return uint64(n), n >= 0
	case uint32:
		return uint64(n), true
	case int32:
		return uint64(n), n >= 0
	case int:
		return uint64(n), n >= 0
	case uint:
		return uint64(n), true
	}
	return 0, false
}

func (h *handler) OnPosSynced(_ *replication.EventHeader, pos gomysql.Position, set gomysql.GTIDSet, force bool) error {
	it := item{kind: itemPos, pos: mysql.Position{File: pos.Name, Pos: pos.Pos}, force: force}
	if set != nil {
		it.gtid = set.String()
	}
	h.file = pos.Name
	return h.send(it)
}

// OnTableChanged runs on DDL. ADD/DROP/MODIFY COLUMN keep streaming (canal
// reloads the schema; documents are re-read by key); a watched table that no
// longer exists stops the worker with ErrTableDropped.
func (h *handler) OnTableChanged(_ *replication.EventHeader, db, table string) error {
	if _, watched := h.tables[table]; !watched || db != h.schema {
		return nil
	}
	var n int
	err := h.db.QueryRowContext(h.ctx, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", db, table).Scan(&n)
	if err != nil {
		return fmt.Errorf("check table %s.%s after DDL: %w", db, table, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s.%s; restore it or remove it from cdc.tables, then run 'soomcare cdc reset' and restart", ErrTableDropped, db, table)
	}
	h.logger.Info("schema change on a watched table; streaming continues", "table", table)
	return nil
}

func (h *handler) OnTableNotFound(_ *replication.EventHeader, e *replication.RowsEvent) error {
	if _, watched := h.tables[string(e.Table.Table)]; watched && string(e.Table.Schema) == h.schema {
		return fmt.Errorf("%w: %s.%s has row events but no longer exists; run 'soomcare cdc reset' and restart", ErrTableDropped, e.Table.Schema, e.Table.Table)
	}
	return nil
}

var _ canal.EventHandler = (*handler)(nil)

package cdc

import (
	"context"
	"log/slog"
)

// canal logs a line for every DDL statement in the binlog, of every schema
// on the server ("table structure changed, clear table cache"): on a shared
// server that was nearly all of the worker's log. watchedLog keeps those
// lines only for the watched schema's watched tables; every other canal line
// passes unchanged.
type watchedLog struct {
	next   slog.Handler
	schema string
	tables map[string]keyColumn
}

const canalDDLMessage = "table structure changed, clear table cache"

func newWatchedLog(next slog.Handler, schema string, tables map[string]keyColumn) *watchedLog {
	return &watchedLog{next: next, schema: schema, tables: tables}
}

func (h *watchedLog) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *watchedLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == canalDDLMessage && !h.concerns(r) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

// concerns reports whether a DDL line names a watched table of the schema.
func (h *watchedLog) concerns(r slog.Record) bool {
	var db, table string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "database":
			db = a.Value.String()
		case "table":
			table = a.Value.String()
		}
		return true
	})
	if db != h.schema {
		return false
	}
	_, watched := h.tables[table]
	return watched
}

func (h *watchedLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &watchedLog{next: h.next.WithAttrs(attrs), schema: h.schema, tables: h.tables}
}

func (h *watchedLog) WithGroup(name string) slog.Handler {
	return &watchedLog{next: h.next.WithGroup(name), schema: h.schema, tables: h.tables}
}

// Package ecslog builds the processes' log/slog logger: JSON lines with
// Elastic Common Schema names for log shippers (log.format: json), or
// log/slog's text lines for people (log.format: text), and in both the
// attributes a request's context carries (its http.request.id), so every
// line logged with that context names the request.
//
// Why not an ECS library: Elastic's ecszap (the zap encoder meant to sit
// behind zap's slog bridge) cannot be fetched here (the Go module proxy
// answers 403 for go.elastic.co/ecszap), and the ECS logger that can,
// ecszerolog, sets zerolog's package-level field names (global state shared
// by every logger of the process) and would need a third-party slog bridge
// on top. What ECS logging asks of a line is small — @timestamp, log.level,
// message first, ecs.version, dotted field names — and log/slog's own JSON
// handler writes all of it once ReplaceAttr renames its three keys; the
// encoder, escaping and ordering stay the standard library's.
package ecslog

import (
	"context"
	"io"
	"log/slog"
	"time"
)

// Version is the ECS version the field names follow (ecs.version).
const Version = "8.11.0"

// Formats of log.format.
const (
	FormatText = "text"
	FormatJSON = "json"
)

// Options configure New.
type Options struct {
	Format  string       // FormatJSON, else text
	Level   slog.Leveler // nil: info
	Service string       // service.name on JSON lines; "" leaves it to the shipper
}

// New returns the logger writing to w in o.Format. Both formats add the
// attributes of the context a line is logged with (WithAttrs).
func New(w io.Writer, o Options) *slog.Logger {
	if o.Format == FormatJSON {
		return slog.New(NewJSONHandler(w, o.Level, o.Service))
	}
	return slog.New(ContextHandler(slog.NewTextHandler(w, &slog.HandlerOptions{Level: o.Level})))
}

// NewJSONHandler writes one ECS JSON object per line: @timestamp (UTC,
// milliseconds), log.level (lower case), message, then ecs.version,
// service.name (when not empty), the context's attributes and the line's.
// An attribute "err" (the codebase's name for an error) becomes
// error.message, ECS's string field, so it never collides with the error
// object of the mapping.
func NewJSONHandler(w io.Writer, level slog.Leveler, service string) slog.Handler {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: replaceECS})
	attrs := []slog.Attr{slog.String("ecs.version", Version)}
	if service != "" {
		attrs = append(attrs, slog.String("service.name", service))
	}
	return ContextHandler(h.WithAttrs(attrs))
}

// timestampLayout is @timestamp as Elasticsearch's date type keeps it
// (milliseconds) and as ECS loggers write it.
const timestampLayout = "2006-01-02T15:04:05.000Z"

func replaceECS(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.TimeKey:
		if a.Value.Kind() == slog.KindTime {
			return slog.String("@timestamp", a.Value.Time().UTC().Format(timestampLayout))
		}
	case slog.LevelKey:
		if l, ok := a.Value.Any().(slog.Level); ok {
			return slog.String("log.level", levelName(l))
		}
	case slog.MessageKey:
		return slog.Attr{Key: "message", Value: a.Value}
	case "err":
		if err, ok := a.Value.Any().(error); ok {
			return slog.String("error.message", err.Error())
		}
		return slog.Attr{Key: "error.message", Value: a.Value}
	}
	return a
}

// levelName is ECS's log.level: lower case, without allocating for the
// four levels the code uses.
func levelName(l slog.Level) string {
	switch l {
	case slog.LevelDebug:
		return "debug"
	case slog.LevelInfo:
		return "info"
	case slog.LevelWarn:
		return "warn"
	case slog.LevelError:
		return "error"
	}
	b := []byte(l.String())
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

type ctxKey struct{}

// WithAttrs returns ctx carrying attrs in addition to those it carries
// already: every line logged with the returned context (or one derived
// from it) through a logger of this package has them.
func WithAttrs(ctx context.Context, attrs ...slog.Attr) context.Context {
	prev, _ := ctx.Value(ctxKey{}).([]slog.Attr)
	all := make([]slog.Attr, 0, len(prev)+len(attrs))
	all = append(append(all, prev...), attrs...)
	return context.WithValue(ctx, ctxKey{}, all)
}

// Attrs returns the attributes ctx carries.
func Attrs(ctx context.Context) []slog.Attr {
	if ctx == nil {
		return nil
	}
	attrs, _ := ctx.Value(ctxKey{}).([]slog.Attr)
	return attrs
}

// ContextHandler wraps h so that each record gains the attributes of the
// context it is logged with (WithAttrs). The codebase never opens a group
// (WithGroup); under one, the context's attributes would land in it too.
func ContextHandler(h slog.Handler) slog.Handler {
	if c, ok := h.(contextHandler); ok {
		return c
	}
	return contextHandler{next: h}
}

type contextHandler struct{ next slog.Handler }

func (h contextHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if attrs := Attrs(ctx); len(attrs) > 0 {
		r.AddAttrs(attrs...)
	}
	return h.next.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{next: h.next.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{next: h.next.WithGroup(name)}
}

// Since is the ECS event.duration of a span that began at start: nanoseconds.
func Since(start time.Time) slog.Attr {
	return slog.Int64("event.duration", time.Since(start).Nanoseconds())
}

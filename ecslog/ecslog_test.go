package ecslog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestJSONLinesCarryECSNames(t *testing.T) {
	tests := []struct {
		name  string
		log   func(ctx context.Context, l *slog.Logger)
		want  map[string]any // exact values (JSON types)
		types map[string]string
		gone  []string
	}{
		{
			name: "info with context attributes",
			log: func(ctx context.Context, l *slog.Logger) {
				l.LogAttrs(WithAttrs(ctx, slog.String("http.request.id", "r-1")), slog.LevelInfo, "request",
					slog.Int("http.response.status_code", 200), Since(time.Now()))
			},
			want:  map[string]any{"log.level": "info", "message": "request", "http.request.id": "r-1", "http.response.status_code": float64(200), "service.name": "soomcare-api", "ecs.version": Version},
			types: map[string]string{"@timestamp": "string", "event.duration": "number"},
			gone:  []string{"time", "level", "msg"},
		},
		{
			name:  "warn with an error",
			log:   func(ctx context.Context, l *slog.Logger) { l.WarnContext(ctx, "slow", "err", errors.New("boom")) },
			want:  map[string]any{"log.level": "warn", "message": "slow", "error.message": "boom"},
			types: map[string]string{"@timestamp": "string"},
			gone:  []string{"err"},
		},
		{
			name: "custom level lower case",
			log:  func(ctx context.Context, l *slog.Logger) { l.Log(ctx, slog.LevelError+2, "x") },
			want: map[string]any{"log.level": "error+2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.log(context.Background(), New(&buf, Options{Format: FormatJSON, Level: slog.LevelDebug, Service: "soomcare-api"}))
			line := parse(t, buf.Bytes())
			for k, v := range tt.want {
				if line[k] != v {
					t.Errorf("%s = %#v, want %#v (line %s)", k, line[k], v, buf.Bytes())
				}
			}
			for k, typ := range tt.types {
				if got := jsonType(line[k]); got != typ {
					t.Errorf("%s is a %s, want %s", k, got, typ)
				}
			}
			for _, k := range tt.gone {
				if _, ok := line[k]; ok {
					t.Errorf("%s should not be written: %s", k, buf.Bytes())
				}
			}
			if !bytes.HasPrefix(buf.Bytes(), []byte(`{"@timestamp":`)) {
				t.Errorf("@timestamp must come first: %s", buf.Bytes())
			}
			ts, err := time.Parse(time.RFC3339Nano, line["@timestamp"].(string))
			if err != nil || ts.Location() != time.UTC || !strings.HasSuffix(line["@timestamp"].(string), "Z") {
				t.Errorf("@timestamp %v: %v", line["@timestamp"], err)
			}
		})
	}
}

func TestTextStaysForPeople(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, Options{Format: FormatText})
	l.InfoContext(WithAttrs(context.Background(), slog.String("http.request.id", "r-2")), "streaming", "n", 1)
	l.Debug("hidden")
	got := buf.String()
	for _, want := range []string{"level=INFO", "msg=streaming", "n=1", "http.request.id=r-2"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "hidden") || strings.Contains(got, "ecs.version") {
		t.Errorf("text line %q", got)
	}
}

func TestWithAttrsAccumulatesWithoutSharing(t *testing.T) {
	base := WithAttrs(context.Background(), slog.String("a", "1"))
	x := WithAttrs(base, slog.String("b", "x"))
	y := WithAttrs(base, slog.String("b", "y"))
	if got := Attrs(x); len(got) != 2 || got[1].Value.String() != "x" {
		t.Errorf("x: %v", got)
	}
	if got := Attrs(y); len(got) != 2 || got[1].Value.String() != "y" {
		t.Errorf("y: %v", got)
	}
	if len(Attrs(base)) != 1 || Attrs(context.Background()) != nil {
		t.Errorf("base %v", Attrs(base))
	}
}

func parse(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(raw), &m); err != nil {
		t.Fatalf("not one JSON object: %s: %v", raw, err)
	}
	return m
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case nil:
		return "absent"
	}
	return "other"
}

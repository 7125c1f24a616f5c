package logstore

// filebeat is ops/filebeat/filebeat.yml read by the tests: its ndjson parser
// and processors, applied to a log line the way Filebeat applies them, give
// the document Filebeat would send. The integration tests post these
// documents through _bulk (no Filebeat package installs here). A processor
// this file does not know fails the test, so the config cannot grow a step
// the tests silently skip.

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

type filebeat struct {
	index     string // default of the output index
	processor []map[string]any
}

func loadFilebeat(t testing.TB) filebeat {
	t.Helper()
	raw, err := os.ReadFile("../ops/filebeat/filebeat.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Inputs []struct {
			Type    string           `yaml:"type"`
			Parsers []map[string]any `yaml:"parsers"`
		} `yaml:"filebeat.inputs"`
		Processors []map[string]any `yaml:"processors"`
		Output     struct {
			Index string `yaml:"index"`
		} `yaml:"output.elasticsearch"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Inputs) != 1 || cfg.Inputs[0].Type != "filestream" {
		t.Fatalf("want one filestream input, got %+v", cfg.Inputs)
	}
	var kinds []string
	for _, p := range cfg.Inputs[0].Parsers {
		for k := range p {
			kinds = append(kinds, k)
		}
	}
	if !slices.Equal(kinds, []string{"container", "ndjson"}) {
		t.Fatalf("parsers = %v, want container then ndjson", kinds)
	}
	nd := cfg.Inputs[0].Parsers[1]["ndjson"].(map[string]any)
	// What decode below implements: merged at the root, dotted keys
	// expanded, the line's keys win, decode errors kept.
	want := map[string]any{"target": "", "overwrite_keys": true, "expand_keys": true, "add_error_key": true}
	for k, v := range want {
		if nd[k] != v {
			t.Fatalf("ndjson.%s = %v, want %v", k, nd[k], v)
		}
	}
	m := regexp.MustCompile(`^\$\{[A-Z_]+:([^}]+)\}$`).FindStringSubmatch(cfg.Output.Index)
	if m == nil {
		t.Fatalf("output index %q", cfg.Output.Index)
	}
	return filebeat{index: m[1], processor: cfg.Processors}
}

// event is what Filebeat makes of one line written by the compose service
// service; keep is false when a processor dropped it.
func (fb filebeat) event(t testing.TB, line []byte, service string, read time.Time) (map[string]any, bool) {
	t.Helper()
	ev := map[string]any{}
	var fields map[string]any
	if err := json.Unmarshal(line, &fields); err != nil {
		putPath(ev, "error.message", "Error decoding JSON: "+err.Error())
		putPath(ev, "message", string(line))
	}
	for k, v := range fields {
		putPath(ev, k, expand(v))
	}
	ts := read.UTC()
	if s, ok := ev["@timestamp"].(string); ok {
		if p, err := time.Parse(time.RFC3339Nano, s); err == nil {
			ts = p.UTC()
		}
	}
	for _, p := range fb.processor {
		for name, raw := range p {
			opts, _ := raw.(map[string]any)
			switch name {
			case "add_docker_metadata":
				putPath(ev, "container.labels.com_docker_compose_service", service)
				putPath(ev, "container.name", "soomcare-"+service+"-1")
			case "drop_event":
				if dropped(t, opts, ev) {
					return nil, false
				}
			case "timestamp":
				field, _ := opts["field"].(string)
				if s, ok := getPath(ev, field).(string); ok {
					for _, layout := range opts["layouts"].([]any) {
						if p, err := time.Parse(layout.(string), s); err == nil {
							ts = p.UTC()
							break
						}
					}
				}
			case "rename", "copy_fields":
				for _, f := range opts["fields"].([]any) {
					fm := f.(map[string]any)
					from, to := fm["from"].(string), fm["to"].(string)
					v := getPath(ev, from)
					if v == nil || getPath(ev, to) != nil { // ignore_missing; target exists: fail_on_error false keeps the event
						continue
					}
					if name == "rename" {
						deletePath(ev, from)
					}
					putPath(ev, to, v)
				}
			case "drop_fields":
				for _, f := range opts["fields"].([]any) {
					deletePath(ev, f.(string))
				}
			default:
				t.Fatalf("filebeat.yml uses processor %q, which the tests do not model: teach loadFilebeat", name)
			}
		}
	}
	ev["@timestamp"] = ts.Format("2006-01-02T15:04:05.000Z")
	return ev, true
}

// dropped evaluates drop_event's condition in the one shape filebeat.yml
// uses: not: {or: [{equals: {field: value}}, …]}.
func dropped(t testing.TB, opts map[string]any, ev map[string]any) bool {
	when, _ := opts["when"].(map[string]any)
	not, _ := when["not"].(map[string]any)
	or, ok := not["or"].([]any)
	if !ok {
		t.Fatalf("drop_event condition %v is not modelled", when)
	}
	for _, c := range or {
		for field, want := range c.(map[string]any)["equals"].(map[string]any) {
			if fmt.Sprint(getPath(ev, field)) == fmt.Sprint(want) {
				return false
			}
		}
	}
	return true
}

func expand(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := map[string]any{}
	for k, x := range m {
		putPath(out, k, expand(x))
	}
	return out
}

func putPath(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	last := parts[len(parts)-1]
	if sub, ok := v.(map[string]any); ok {
		if cur, ok := m[last].(map[string]any); ok {
			for k, x := range sub {
				putPath(cur, k, x)
			}
			return
		}
	}
	m[last] = v
}

func getPath(m map[string]any, path string) any {
	var cur any = m
	for _, p := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

func deletePath(m map[string]any, path string) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			return
		}
		m = next
	}
	delete(m, parts[len(parts)-1])
}

func TestFilebeatMapsTheLines(t *testing.T) {
	fb := loadFilebeat(t)
	if fb.index != "logs-soomcare-default" {
		t.Errorf("output index default = %s", fb.index)
	}
	read := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		line    string
		service string
		keep    bool
		want    map[string]any // dotted path -> value
		absent  []string
	}{
		{
			name:    "ECS line",
			line:    `{"@timestamp":"2026-03-02T01:02:03.456Z","log.level":"info","message":"request","http.request.id":"r-1","http.response.status_code":200,"service.name":"soomcare-api"}`,
			service: "api", keep: true,
			want: map[string]any{"@timestamp": "2026-03-02T01:02:03.456Z", "log.level": "info", "message": "request",
				"http.request.id": "r-1", "http.response.status_code": float64(200), "service.name": "soomcare-api"},
		},
		{
			name:    "slog default keys",
			line:    `{"time":"2026-03-02T10:02:03.456789+09:00","level":"INFO","msg":"starting","command":"serve"}`,
			service: "cdc", keep: true,
			want:   map[string]any{"@timestamp": "2026-03-02T01:02:03.456Z", "log.level": "INFO", "message": "starting", "service.name": "cdc", "command": "serve"},
			absent: []string{"time", "msg", "level"},
		},
		{name: "another container", line: `{"message":"x"}`, service: "elasticsearch", keep: false},
		{
			name: "not JSON", line: `panic: boom`, service: "api", keep: true,
			want: map[string]any{"message": "panic: boom", "@timestamp": "2026-03-01T00:00:00.000Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, keep := fb.event(t, []byte(tt.line), tt.service, read)
			if keep != tt.keep {
				t.Fatalf("keep = %v, want %v", keep, tt.keep)
			}
			for path, want := range tt.want {
				if got := getPath(ev, path); got != want {
					t.Errorf("%s = %v (%T), want %v", path, got, got, want)
				}
			}
			for _, path := range tt.absent {
				if getPath(ev, path) != nil {
					t.Errorf("%s should be gone: %v", path, ev)
				}
			}
		})
	}
}

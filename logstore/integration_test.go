package logstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/ecslog"
	"github.com/soomcare/soomcare/internal/testengine"
	"github.com/soomcare/soomcare/server"
	"github.com/soomcare/soomcare/web"
)

// TestIntegrationLogDataStreamOnOpenSearch: setup on the real OpenSearch (no
// ISM plugin here), access lines written by serve's router through ecslog and
// mapped by ops/filebeat/filebeat.yml posted through _bulk, found by
// http.request.id, then a core rollover and a prune past the retention.
func TestIntegrationLogDataStreamOnOpenSearch(t *testing.T) {
	eng := testengine.OpenSearch(t)
	ctx := context.Background()
	o := Options{DataStream: fmt.Sprintf("logs-soomcare-it%d", rand.Uint32()), Retention: "7d", RolloverSize: "5gb", RolloverAge: "1d"}
	s := New(eng.Client, o)
	t.Cleanup(func() {
		_, _, _ = s.call(ctx, http.MethodDelete, "/_data_stream/"+o.DataStream, nil)
		_, _, _ = s.call(ctx, http.MethodDelete, "/_index_template/"+o.DataStream, nil)
	})

	rep, err := s.Setup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Caps.DataStreamAPI || rep.Caps.Lifecycle != LifecycleNone || !strings.Contains(rep.Caps.Probe, "_plugins/_ism/policies answered 400") {
		t.Fatalf("capabilities %+v: want data streams and no ISM on this OpenSearch", rep.Caps)
	}
	results := map[string]string{}
	for _, st := range rep.Steps {
		results[strings.Fields(st.What)[0]+" "+strings.Fields(st.What)[1]] = st.Result
	}
	want := map[string]string{"lifecycle policy": "not available on this engine", "index template": "installed", "data stream": "created"}
	for k, v := range want {
		if results[k] != v {
			t.Errorf("step %q = %q, want %q (steps %+v)", k, results[k], v, rep.Steps)
		}
	}
	if rep, err := s.Setup(ctx); err != nil || rep.Steps[2].Result != "exists" {
		t.Fatalf("second setup: %v %+v", err, rep.Steps)
	}

	fb := loadFilebeat(t)
	first := fmt.Sprintf("req-%d", rand.Uint64())
	ship(t, s, fb, requestLines(t, first, 3))
	hits := findByRequestID(t, s, first)
	if len(hits) != 3 {
		t.Fatalf("request %s: %d lines in the data stream, want 3", first, len(hits))
	}
	h := hits[0]
	if getPath(h, "http.response.status_code") != float64(503) || getPath(h, "url.path") != "/v1/search" ||
		getPath(h, "log.level") != "info" || getPath(h, "service.name") != "soomcare-api" || getPath(h, "message") != "request" ||
		getPath(h, "client.ip") != "192.0.2.1" || getPath(h, "ecs.version") != ecslog.Version {
		t.Errorf("line as stored: %v", h)
	}
	checkMapping(t, s)

	if res, err := s.Rollover(ctx, false); err != nil || res.RolledOver {
		t.Fatalf("conditional rollover of a fresh index: %+v, %v; want not rolled over", res, err)
	}
	res, err := s.Rollover(ctx, true)
	if err != nil || !res.RolledOver || !strings.HasSuffix(res.NewIndex, "-000002") {
		t.Fatalf("rollover --now: %+v, %v", res, err)
	}
	second := fmt.Sprintf("req-%d", rand.Uint64())
	ship(t, s, fb, requestLines(t, second, 1))
	if n := len(findByRequestID(t, s, second)); n != 1 {
		t.Fatalf("after the rollover: %d lines of %s, want 1", n, second)
	}
	if n := len(findByRequestID(t, s, first)); n != 3 {
		t.Fatalf("after the rollover the first index still answers: %d lines, want 3", n)
	}

	backings, err := s.Backings(ctx)
	if err != nil || len(backings) != 2 || backings[0].RolledOver.IsZero() || !backings[1].RolledOver.IsZero() {
		t.Fatalf("backings %+v, %v", backings, err)
	}
	if gone, err := s.Prune(ctx, time.Now(), false); err != nil || len(gone) != 0 {
		t.Fatalf("prune within the retention deleted %v, %v", gone, err)
	}
	later := backings[0].RolledOver.Add(7*24*time.Hour + time.Minute)
	if gone, err := s.Prune(ctx, later, true); err != nil || !slices.Equal(gone, []string{backings[0].Index}) {
		t.Fatalf("dry run past the retention: %v, %v", gone, err)
	}
	if gone, err := s.Prune(ctx, later, false); err != nil || !slices.Equal(gone, []string{backings[0].Index}) {
		t.Fatalf("prune past the retention: %v, %v; want only %s", gone, err, backings[0].Index)
	}
	if n := len(findByRequestID(t, s, first)); n != 0 {
		t.Errorf("pruned lines still found: %d", n)
	}
	if n := len(findByRequestID(t, s, second)); n != 1 {
		t.Errorf("the write index must survive a prune: %d lines of %s", n, second)
	}
}

// TestIntegrationLogSetupOnElasticsearch: the Elasticsearch integ-test build
// has neither ILM nor the _data_stream API; setup must say so, install the
// template, and create nothing it could not delete (no data stream: only
// the missing API could remove it).
func TestIntegrationLogSetupOnElasticsearch(t *testing.T) {
	eng := testengine.All(t)[1]
	ctx := context.Background()
	o := Options{DataStream: fmt.Sprintf("logs-soomcare-it%d", rand.Uint32()), Retention: "7d", RolloverSize: "5gb", RolloverAge: "1d"}
	s := New(eng.Client, o)
	t.Cleanup(func() { _, _, _ = s.call(ctx, http.MethodDelete, "/_index_template/"+o.DataStream, nil) })
	plugins, err := eng.Client.Plugins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.Setup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantILM := slices.Contains(plugins, "x-pack-ilm")
	if (rep.Caps.Lifecycle == LifecycleILM) != wantILM || rep.Caps.DataStreamAPI != slices.Contains(plugins, "x-pack-data-streams") {
		t.Fatalf("capabilities %+v disagree with the modules %v", rep.Caps, plugins)
	}
	if wantILM {
		t.Skip("this Elasticsearch has ILM: the no-lifecycle path is not exercised")
	}
	if rep.Steps[0].Result != "not available on this engine" || !strings.Contains(rep.Steps[0].Note, "soomcare logs rollover") ||
		rep.Steps[1].Result != "installed" || rep.Steps[2].Result != "created by the first write" {
		t.Errorf("steps %+v", rep.Steps)
	}
	if _, err := s.must(ctx, http.MethodGet, "/_index_template/"+o.DataStream, nil); err != nil {
		t.Errorf("template not installed: %v", err)
	}
}

// requestLines are n access lines of one request id written by the real
// router of serve (server.NewWith, web.RequestID and web.AccessLog) through
// the handler serve uses with log.format: json (ecslog): each request sends
// id as X-Request-ID and gets a 503.
func requestLines(t *testing.T, id string, n int) [][]byte {
	t.Helper()
	var buf bytes.Buffer
	log := ecslog.New(&buf, ecslog.Options{Format: ecslog.FormatJSON, Level: slog.LevelInfo, Service: "soomcare-api"})
	srv := server.NewWith(config.HTTP{MaxBodyBytes: 1 << 20}, log, nil, server.Options{}, func(e *gin.Engine) {
		e.GET("/v1/search", func(c *gin.Context) { c.Status(http.StatusServiceUnavailable) })
	})
	for range n {
		req := httptest.NewRequest(http.MethodGet, "/v1/search?q=%EC%B2%9C%EC%8B%9D", nil)
		req.Header.Set(web.RequestIDHeader, id)
		srv.Handler().ServeHTTP(httptest.NewRecorder(), req)
	}
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) != n {
		t.Fatalf("%d lines for %d requests: %s", len(lines), n, buf.Bytes())
	}
	return lines
}

// ship posts the lines as Filebeat would: mapped by filebeat.yml, create
// operations into the data stream.
func ship(t *testing.T, s *Store, fb filebeat, lines [][]byte) {
	t.Helper()
	var body bytes.Buffer
	for _, line := range lines {
		ev, keep := fb.event(t, line, "api", time.Now())
		if !keep {
			t.Fatalf("filebeat.yml drops the api's line %s", line)
		}
		doc, _ := json.Marshal(ev)
		fmt.Fprintf(&body, `{"create":{"_index":%q}}`+"\n%s\n", s.opts.DataStream, doc)
	}
	raw, err := s.must(context.Background(), http.MethodPost, "/_bulk?refresh=true", body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Errors bool             `json:"errors"`
		Items  []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(raw, &res); err != nil || res.Errors || len(res.Items) != len(lines) {
		t.Fatalf("_bulk: %v %s", err, raw)
	}
}

func findByRequestID(t *testing.T, s *Store, id string) []map[string]any {
	t.Helper()
	q, _ := json.Marshal(map[string]any{"size": 100, "query": map[string]any{"term": map[string]any{"http.request.id": id}}})
	raw, err := s.must(context.Background(), http.MethodPost, "/"+s.opts.DataStream+"/_search", q)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Hits struct {
			Hits []struct {
				Source map[string]any `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, h := range res.Hits.Hits {
		out = append(out, h.Source)
	}
	return out
}

// checkMapping reads the field types the engine applied to the backing index.
func checkMapping(t *testing.T, s *Store) {
	t.Helper()
	fields := []string{"http.request.id", "client.ip", "http.response.status_code", "event.duration", "log.level", "service.name", "container.name"}
	raw, err := s.must(context.Background(), http.MethodGet, "/"+s.opts.DataStream+"/_mapping/field/"+strings.Join(fields, ","), nil)
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]struct {
		Mappings map[string]struct {
			Mapping map[string]struct {
				Type string `json:"type"`
			} `json:"mapping"`
		} `json:"mappings"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"http.request.id": "keyword", "client.ip": "ip", "http.response.status_code": "short",
		"event.duration": "long", "log.level": "keyword", "service.name": "keyword", "container.name": "keyword"}
	for index, m := range res {
		for f, typ := range want {
			leaf := f[strings.LastIndex(f, ".")+1:]
			if got := m.Mappings[f].Mapping[leaf].Type; got != typ {
				t.Errorf("%s: %s is %q, want %s", index, f, got, typ)
			}
		}
	}
}

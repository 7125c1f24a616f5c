package logstore

// Setup against a fake engine, for the paths the test engines here cannot
// take: ILM and ISM present (what Setup sends), an ISM policy that already
// exists (updated with its sequence number, as ISM requires), and a probe
// that answers neither "present" nor "absent".

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/engine"
)

type fakeEngine struct {
	mu       sync.Mutex
	answers  map[string]fakeAnswer // "METHOD /path" -> answer; unknown: 404
	requests []string              // "METHOD /path?query"
	bodies   map[string][]byte     // "METHOD /path" -> body
}

type fakeAnswer struct {
	status int
	body   string
}

func (f *fakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := r.Method + " " + r.URL.Path
	f.requests = append(f.requests, key+"?"+r.URL.RawQuery)
	body, _ := io.ReadAll(r.Body)
	f.bodies[key] = body
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	a, ok := f.answers[key]
	if !ok {
		a = fakeAnswer{404, `{"error":{"type":"resource_not_found_exception","reason":"none"},"status":404}`}
	}
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

func fakeStore(t *testing.T, kind string, answers map[string]fakeAnswer) (*Store, *fakeEngine) {
	f := &fakeEngine{answers: answers, bodies: map[string][]byte{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	es, err := engine.New(config.Search{Engine: kind, Addresses: []string{srv.URL}, RequestTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return New(es, testOptions), f
}

const ok200 = `{"acknowledged":true}`

func TestSetupWithISM(t *testing.T) {
	ds := testOptions.DataStream
	tests := []struct {
		name       string
		existing   bool
		wantPut    string // query of the policy PUT
		wantResult string
	}{
		{"new policy", false, "", "installed"},
		{"existing policy", true, "if_seq_no=7&if_primary_term=2", "updated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answers := map[string]fakeAnswer{
				"GET /_data_stream":                 {200, `{"data_streams":[]}`},
				"GET /_plugins/_ism/policies":       {200, `{"policies":[],"total_policies":0}`},
				"PUT /_plugins/_ism/policies/" + ds: {201, `{"_id":"x"}`},
				"PUT /_index_template/" + ds:        {200, ok200},
				"PUT /_data_stream/" + ds:           {200, ok200},
			}
			if tt.existing {
				answers["GET /_plugins/_ism/policies/"+ds] = fakeAnswer{200, `{"_id":"` + ds + `","_seq_no":7,"_primary_term":2,"policy":{}}`}
			}
			s, f := fakeStore(t, config.EngineOpenSearch, answers)
			rep, err := s.Setup(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if rep.Caps.Lifecycle != LifecycleISM || rep.Steps[0].Result != tt.wantResult || rep.Steps[2].Result != "created" {
				t.Fatalf("report %+v", rep)
			}
			wantOrder := []string{"GET /_plugins/_ism/policies/" + ds + "?", "PUT /_plugins/_ism/policies/" + ds + "?" + tt.wantPut,
				"PUT /_index_template/" + ds + "?", "GET /_data_stream/" + ds + "?", "PUT /_data_stream/" + ds + "?"}
			if got := strings.Join(f.requests[2:], " | "); got != strings.Join(wantOrder, " | ") {
				t.Errorf("requests after detection:\n got %s\nwant %s", got, strings.Join(wantOrder, " | "))
			}
			if problems := checkISM(t, f.bodies["PUT /_plugins/_ism/policies/"+ds], testOptions); len(problems) > 0 {
				t.Errorf("policy sent: %q", problems)
			}
			if strings.Contains(string(f.bodies["PUT /_index_template/"+ds]), "lifecycle") {
				t.Error("an OpenSearch template must not name a lifecycle policy")
			}
		})
	}
}

func TestSetupWithILM(t *testing.T) {
	ds := testOptions.DataStream
	s, f := fakeStore(t, config.EngineElasticsearch, map[string]fakeAnswer{
		"GET /_data_stream":          {200, `{"data_streams":[]}`},
		"GET /_ilm/status":           {200, `{"operation_mode":"RUNNING"}`},
		"PUT /_ilm/policy/" + ds:     {200, ok200},
		"PUT /_index_template/" + ds: {200, ok200},
		"GET /_data_stream/" + ds:    {200, `{"data_streams":[{"name":"` + ds + `","template":"logs","indices":[{"index_name":".ds-x-000001"}]}]}`},
	})
	rep, err := s.Setup(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Caps.Lifecycle != LifecycleILM || rep.Steps[0].Result != "installed" || rep.Steps[2].Result != "exists" ||
		!strings.Contains(rep.Steps[2].Note, `created from template "logs"`) {
		t.Fatalf("report %+v", rep)
	}
	if problems := checkILM(t, f.bodies["PUT /_ilm/policy/"+ds], testOptions); len(problems) > 0 {
		t.Errorf("policy sent: %q", problems)
	}
	var tmpl templateBody
	if err := json.Unmarshal(f.bodies["PUT /_index_template/"+ds], &tmpl); err != nil {
		t.Fatal(err)
	}
	if life, _ := tmpl.Template.Settings["index"].(map[string]any)["lifecycle"].(map[string]any); life["name"] != ds {
		t.Errorf("template index.lifecycle = %v, want name %s", life, ds)
	}
}

func TestDetectRefusesUnexpectedAnswers(t *testing.T) {
	tests := []struct {
		name    string
		answers map[string]fakeAnswer
		want    string
	}{
		{"data stream probe 500", map[string]fakeAnswer{"GET /_data_stream": {500, `{}`}}, "GET /_data_stream answered HTTP 500"},
		{"ISM probe 403", map[string]fakeAnswer{"GET /_data_stream": {200, `{}`}, "GET /_plugins/_ism/policies": {403, `{}`}}, "answered HTTP 403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := fakeStore(t, config.EngineOpenSearch, tt.answers)
			if _, err := s.Setup(context.Background()); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

// With the lifecycle required, an engine without one is found out before
// anything is installed: no policy, template or data stream is written.
func TestSetupRequiringLifecycleChecksFirst(t *testing.T) {
	tests := []struct {
		name      string
		kind      string
		answers   map[string]fakeAnswer
		wantErr   bool
		wantWrite bool
	}{
		{"OpenSearch without ISM", config.EngineOpenSearch, map[string]fakeAnswer{
			"GET /_data_stream":           {200, `{"data_streams":[]}`},
			"GET /_plugins/_ism/policies": {400, `{"error":"no handler found for uri"}`},
		}, true, false},
		{"Elasticsearch without ILM", config.EngineElasticsearch, map[string]fakeAnswer{
			"GET /_data_stream": {200, `{"data_streams":[]}`},
			"GET /_ilm/status":  {404, `{}`},
		}, true, false},
		{"Elasticsearch with ILM", config.EngineElasticsearch, map[string]fakeAnswer{
			"GET /_data_stream":                              {200, `{"data_streams":[]}`},
			"GET /_ilm/status":                               {200, `{"operation_mode":"RUNNING"}`},
			"PUT /_ilm/policy/" + testOptions.DataStream:     {200, ok200},
			"PUT /_index_template/" + testOptions.DataStream: {200, ok200},
			"PUT /_data_stream/" + testOptions.DataStream:    {200, ok200},
		}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, f := fakeStore(t, tt.kind, tt.answers)
			rep, err := s.SetupRequiringLifecycle(context.Background())
			if got := errors.Is(err, ErrNoLifecycle); got != tt.wantErr {
				t.Fatalf("err = %v, want ErrNoLifecycle %v", err, tt.wantErr)
			}
			if !tt.wantErr && err != nil {
				t.Fatal(err)
			}
			wrote := false
			for _, r := range f.requests {
				wrote = wrote || strings.HasPrefix(r, "PUT ")
			}
			if wrote != tt.wantWrite {
				t.Errorf("wrote = %v, want %v: %v (report %+v)", wrote, tt.wantWrite, f.requests, rep)
			}
		})
	}
}

package logstore

// The policy and template documents checked against the engines' published
// schemas, mirrored here as structs that reject unknown fields:
//   - ILM: elasticsearch-specification, specification/ilm/_types/Policy.ts and
//     Phase.ts (Policy{phases,_meta}, Phases{hot,warm,cold,frozen,delete},
//     Phase{actions,min_age}, Actions and the phases each action is allowed in,
//     RolloverAction, DeleteAction), and the rollover action's rule that at
//     least one max_* condition is given.
//   - ISM: opensearch-api-specification, spec/schemas/ism._common.yaml
//     (Policy, States, Action, ActionRollover, ActionRetry, Transition,
//     IsmTemplate) and the ISM policies page of the OpenSearch documentation
//     for the transition conditions and the retry backoff values.
//   - Composable index template: the PUT _index_template body of both
//     engines (index_patterns, template, composed_of, priority, version,
//     _meta, data_stream).
// Applying the policies needs the ILM/ISM plugins, which the test engines
// here lack (docs/logs.md: "Log storage").

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/config"
)

func strict(t *testing.T, raw []byte, v any) error {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// ---- ILM (Elasticsearch) ----

type ilmBody struct {
	Policy struct {
		Phases ilmPhases      `json:"phases"`
		Meta   map[string]any `json:"_meta"`
	} `json:"policy"`
}

type ilmPhases struct {
	Hot    *ilmPhase `json:"hot"`
	Warm   *ilmPhase `json:"warm"`
	Cold   *ilmPhase `json:"cold"`
	Frozen *ilmPhase `json:"frozen"`
	Delete *ilmPhase `json:"delete"`
}

type ilmPhase struct {
	MinAge  string     `json:"min_age"`
	Actions ilmActions `json:"actions"`
}

type ilmActions struct {
	Allocate           json.RawMessage `json:"allocate"`
	Delete             *ilmDelete      `json:"delete"`
	Downsample         json.RawMessage `json:"downsample"`
	Forcemerge         json.RawMessage `json:"forcemerge"`
	Migrate            json.RawMessage `json:"migrate"`
	Readonly           json.RawMessage `json:"readonly"`
	Rollover           *ilmRollover    `json:"rollover"`
	SetPriority        json.RawMessage `json:"set_priority"`
	SearchableSnapshot json.RawMessage `json:"searchable_snapshot"`
	Shrink             json.RawMessage `json:"shrink"`
	Unfollow           json.RawMessage `json:"unfollow"`
	WaitForSnapshot    json.RawMessage `json:"wait_for_snapshot"`
}

// names lists the actions a phase sets.
func (a ilmActions) names() []string {
	var out []string
	add := func(name string, set bool) {
		if set {
			out = append(out, name)
		}
	}
	add("allocate", a.Allocate != nil)
	add("delete", a.Delete != nil)
	add("downsample", a.Downsample != nil)
	add("forcemerge", a.Forcemerge != nil)
	add("migrate", a.Migrate != nil)
	add("readonly", a.Readonly != nil)
	add("rollover", a.Rollover != nil)
	add("set_priority", a.SetPriority != nil)
	add("searchable_snapshot", a.SearchableSnapshot != nil)
	add("shrink", a.Shrink != nil)
	add("unfollow", a.Unfollow != nil)
	add("wait_for_snapshot", a.WaitForSnapshot != nil)
	return out
}

// ilmAllowed is the "Phases allowed" note of each action in Phase.ts.
var ilmAllowed = map[string][]string{
	"allocate": {"warm", "cold"}, "delete": {"delete"}, "downsample": {"hot", "warm", "cold"},
	"forcemerge": {"hot", "warm"}, "migrate": {"warm", "cold"}, "readonly": {"hot", "warm", "cold"},
	"rollover": {"hot"}, "set_priority": {"hot", "warm", "cold"}, "searchable_snapshot": {"hot", "cold", "frozen"},
	"shrink": {"hot", "warm"}, "unfollow": {"hot", "warm", "cold", "frozen"}, "wait_for_snapshot": {"delete"},
}

type ilmRollover struct {
	MaxSize             string `json:"max_size"`
	MaxPrimaryShardSize string `json:"max_primary_shard_size"`
	MaxAge              string `json:"max_age"`
	MaxDocs             *int64 `json:"max_docs"`
	MaxPrimaryShardDocs *int64 `json:"max_primary_shard_docs"`
	MinSize             string `json:"min_size"`
	MinPrimaryShardSize string `json:"min_primary_shard_size"`
	MinAge              string `json:"min_age"`
	MinDocs             *int64 `json:"min_docs"`
	MinPrimaryShardDocs *int64 `json:"min_primary_shard_docs"`
}

type ilmDelete struct {
	DeleteSearchableSnapshot *bool `json:"delete_searchable_snapshot"`
}

// checkILM returns the problems of an ILM policy body built from o.
func checkILM(t *testing.T, raw []byte, o Options) []string {
	var body ilmBody
	if err := strict(t, raw, &body); err != nil {
		return []string{"schema: " + err.Error()}
	}
	var problems []string
	bad := func(s string) { problems = append(problems, s) }
	p := body.Policy.Phases
	phases := map[string]*ilmPhase{"hot": p.Hot, "warm": p.Warm, "cold": p.Cold, "frozen": p.Frozen, "delete": p.Delete}
	for name, ph := range phases {
		if ph == nil {
			continue
		}
		if ph.MinAge != "" && ph.MinAge != "0ms" {
			if _, ok := config.AgeSeconds(ph.MinAge); !ok {
				bad(name + ".min_age is not a time value: " + ph.MinAge)
			}
		}
		for _, a := range ph.Actions.names() {
			if !slices.Contains(ilmAllowed[a], name) {
				bad("action " + a + " is not allowed in phase " + name)
			}
		}
	}
	if p.Hot == nil || p.Hot.Actions.Rollover == nil {
		return append(problems, "no rollover in the hot phase")
	}
	r := p.Hot.Actions.Rollover
	if r.MaxSize == "" && r.MaxPrimaryShardSize == "" && r.MaxAge == "" && r.MaxDocs == nil && r.MaxPrimaryShardDocs == nil {
		bad("rollover has no max_* condition")
	}
	if r.MaxPrimaryShardSize != o.RolloverSize || r.MaxAge != o.RolloverAge {
		bad("rollover conditions are not the configured ones")
	}
	if p.Delete == nil || p.Delete.Actions.Delete == nil {
		bad("no delete action in the delete phase")
	} else if p.Delete.MinAge != o.Retention {
		bad("delete.min_age " + p.Delete.MinAge + " is not logs.retention " + o.Retention)
	}
	return problems
}

// ---- ISM (OpenSearch) ----

type ismBody struct {
	Policy struct {
		Description       string          `json:"description"`
		DefaultState      string          `json:"default_state"`
		SchemaVersion     *int            `json:"schema_version"`
		ErrorNotification json.RawMessage `json:"error_notification"`
		States            []ismState      `json:"states"`
		ISMTemplate       []ismTemplate   `json:"ism_template"`
	} `json:"policy"`
}

type ismState struct {
	Name        string          `json:"name"`
	Actions     []ismAction     `json:"actions"`
	Transitions []ismTransition `json:"transitions"`
}

type ismAction struct {
	Timeout      string          `json:"timeout"`
	Retry        *ismRetry       `json:"retry"`
	Alias        json.RawMessage `json:"alias"`
	Delete       *struct{}       `json:"delete"`
	ForceMerge   json.RawMessage `json:"force_merge"`
	ReadOnly     json.RawMessage `json:"read_only"`
	ReadWrite    json.RawMessage `json:"read_write"`
	ReplicaCount json.RawMessage `json:"replica_count"`
	IndexPrio    json.RawMessage `json:"index_priority"`
	Close        json.RawMessage `json:"close"`
	Open         json.RawMessage `json:"open"`
	Snapshot     json.RawMessage `json:"snapshot"`
	Rollover     *ismRollover    `json:"rollover"`
	Notification json.RawMessage `json:"notification"`
	Allocation   json.RawMessage `json:"allocation"`
	Rollup       json.RawMessage `json:"rollup"`
	Transform    json.RawMessage `json:"transform"`
	Shrink       json.RawMessage `json:"shrink"`
	Custom       json.RawMessage `json:"custom"`
}

// operations counts the operations of one action object (ISM wants one).
func (a ismAction) operations() int {
	n := 0
	for _, set := range []bool{a.Alias != nil, a.Delete != nil, a.ForceMerge != nil, a.ReadOnly != nil, a.ReadWrite != nil,
		a.ReplicaCount != nil, a.IndexPrio != nil, a.Close != nil, a.Open != nil, a.Snapshot != nil, a.Rollover != nil,
		a.Notification != nil, a.Allocation != nil, a.Rollup != nil, a.Transform != nil, a.Shrink != nil, a.Custom != nil} {
		if set {
			n++
		}
	}
	return n
}

type ismRetry struct {
	Count   int    `json:"count"`
	Backoff string `json:"backoff"`
	Delay   string `json:"delay"`
}

type ismRollover struct {
	MinSize             string `json:"min_size"`
	MinPrimaryShardSize string `json:"min_primary_shard_size"`
	MinIndexAge         string `json:"min_index_age"`
	MinDocCount         *int64 `json:"min_doc_count"`
	CopyAlias           *bool  `json:"copy_alias"`
}

type ismTransition struct {
	StateName  string         `json:"state_name"`
	Conditions *ismConditions `json:"conditions"`
}

type ismConditions struct {
	MinIndexAge    string          `json:"min_index_age"`
	MinRolloverAge string          `json:"min_rollover_age"`
	MinDocCount    *int64          `json:"min_doc_count"`
	MinSize        string          `json:"min_size"`
	Cron           json.RawMessage `json:"cron"`
}

type ismTemplate struct {
	IndexPatterns   []string        `json:"index_patterns"`
	Priority        int             `json:"priority"`
	LastUpdatedTime json.RawMessage `json:"last_updated_time"`
}

// checkISM returns the problems of an ISM policy body built from o.
func checkISM(t *testing.T, raw []byte, o Options) []string {
	var body ismBody
	if err := strict(t, raw, &body); err != nil {
		return []string{"schema: " + err.Error()}
	}
	var problems []string
	bad := func(s string) { problems = append(problems, s) }
	p := body.Policy
	if p.Description == "" {
		bad("description is required")
	}
	states := map[string]ismState{}
	for _, s := range p.States {
		if _, dup := states[s.Name]; dup || s.Name == "" {
			bad("state name empty or repeated: " + s.Name)
		}
		states[s.Name] = s
	}
	if _, ok := states[p.DefaultState]; !ok {
		bad("default_state " + p.DefaultState + " is not a state")
	}
	for _, s := range p.States {
		for _, a := range s.Actions {
			if a.operations() != 1 {
				bad("an action of state " + s.Name + " must name exactly one operation")
			}
			if a.Retry != nil && !slices.Contains([]string{"exponential", "constant", "linear"}, strings.ToLower(a.Retry.Backoff)) {
				bad("retry.backoff " + a.Retry.Backoff)
			}
		}
		for _, tr := range s.Transitions {
			if _, ok := states[tr.StateName]; !ok {
				bad("transition to unknown state " + tr.StateName)
			}
		}
	}
	hot := states[p.DefaultState]
	if len(hot.Actions) == 0 || hot.Actions[0].Rollover == nil {
		return append(problems, "the default state does not start with a rollover")
	}
	r := hot.Actions[0].Rollover
	if r.MinPrimaryShardSize != o.RolloverSize || r.MinIndexAge != o.RolloverAge {
		bad("rollover conditions are not the configured ones")
	}
	if len(hot.Transitions) != 1 || hot.Transitions[0].Conditions == nil || hot.Transitions[0].Conditions.MinRolloverAge != o.Retention {
		bad("the default state must move on logs.retention after the rollover (min_rollover_age)")
	} else if del := states[hot.Transitions[0].StateName]; len(del.Actions) != 1 || del.Actions[0].Delete == nil || len(del.Transitions) != 0 {
		bad("the state after the rollover must only delete, and be final")
	}
	if len(p.ISMTemplate) != 1 || !slices.Equal(p.ISMTemplate[0].IndexPatterns, []string{o.DataStream}) {
		bad("ism_template must match exactly the data stream (ISM matches a backing index by its data stream's name)")
	}
	return problems
}

// ---- composable index template (both engines) ----

type templateBody struct {
	IndexPatterns []string       `json:"index_patterns"`
	ComposedOf    []string       `json:"composed_of"`
	Priority      int            `json:"priority"`
	Version       *int           `json:"version"`
	Meta          map[string]any `json:"_meta"`
	DataStream    *struct {
		Hidden             *bool `json:"hidden"`
		AllowCustomRouting *bool `json:"allow_custom_routing"`
		TimestampField     *struct {
			Name string `json:"name"`
		} `json:"timestamp_field"` // OpenSearch only
	} `json:"data_stream"`
	Template struct {
		Settings map[string]any  `json:"settings"`
		Mappings json.RawMessage `json:"mappings"`
		Aliases  map[string]any  `json:"aliases"`
	} `json:"template"`
}

var testOptions = Options{DataStream: "logs-soomcare-test", Retention: "7d", RolloverSize: "5gb", RolloverAge: "12h"}

func TestPoliciesMatchThePublishedSchemas(t *testing.T) {
	ilm, err := ILMPolicy(testOptions)
	if err != nil {
		t.Fatal(err)
	}
	ism, err := ISMPolicy(testOptions)
	if err != nil {
		t.Fatal(err)
	}
	// mutate edits a decoded copy of a document.
	mutate := func(raw []byte, f func(map[string]any)) []byte {
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		f(doc)
		out, _ := json.Marshal(doc)
		return out
	}
	get := func(doc map[string]any, path ...any) map[string]any {
		v, err := lookup(doc, path)
		if err != nil {
			t.Fatal(err)
		}
		return v.(map[string]any)
	}
	tests := []struct {
		name  string
		raw   []byte
		check func(*testing.T, []byte, Options) []string
		want  string // "" = no problem; else a substring of some problem
	}{
		{"ILM as built", ilm, checkILM, ""},
		{"ISM as built", ism, checkISM, ""},
		// The checks bite:
		{"ILM unknown action field", mutate(ilm, func(d map[string]any) {
			get(d, "policy", "phases", "hot", "actions", "rollover")["max_primary_size"] = "1gb"
		}), checkILM, "unknown field"},
		{"ILM rollover without max", mutate(ilm, func(d map[string]any) {
			get(d, "policy", "phases", "hot", "actions")["rollover"] = map[string]any{"min_docs": 1}
		}), checkILM, "no max_*"},
		{"ILM delete in hot", mutate(ilm, func(d map[string]any) {
			get(d, "policy", "phases", "hot", "actions")["delete"] = map[string]any{}
		}), checkILM, "not allowed in phase hot"},
		{"ISM unknown condition", mutate(ism, func(d map[string]any) {
			tr := get(d, "policy", "states", 0, "transitions", 0, "conditions")
			tr["min_age"] = "1d"
		}), checkISM, "unknown field"},
		{"ISM two operations in one action", mutate(ism, func(d map[string]any) {
			get(d, "policy", "states", 1, "actions", 0)["read_only"] = map[string]any{}
		}), checkISM, "exactly one operation"},
		{"ISM read-only policy_id in the body", mutate(ism, func(d map[string]any) {
			get(d, "policy")["policy_id"] = "x"
		}), checkISM, "unknown field"},
		{"ISM dangling transition", mutate(ism, func(d map[string]any) {
			get(d, "policy", "states", 0, "transitions", 0)["state_name"] = "warm"
		}), checkISM, "unknown state warm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems := tt.check(t, tt.raw, testOptions)
			if tt.want == "" {
				for _, p := range problems {
					t.Error(p)
				}
				return
			}
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Errorf("no problem mentions %q: %q", tt.want, problems)
			}
		})
	}
}

func TestIndexTemplateShape(t *testing.T) {
	for _, ilm := range []string{"", "logs-soomcare-test"} {
		raw, err := IndexTemplate(testOptions, ilm)
		if err != nil {
			t.Fatal(err)
		}
		var tmpl templateBody
		if err := strict(t, raw, &tmpl); err != nil {
			t.Fatalf("template does not match the PUT _index_template body: %v", err)
		}
		if !slices.Equal(tmpl.IndexPatterns, []string{testOptions.DataStream}) || tmpl.DataStream == nil {
			t.Errorf("template must be a data stream template for exactly %s: %+v", testOptions.DataStream, tmpl.IndexPatterns)
		}
		// Above Elasticsearch's built-in logs-*-* template (priority 100).
		if tmpl.Priority <= 100 {
			t.Errorf("priority %d does not win over the built-in logs-*-* template", tmpl.Priority)
		}
		index, _ := tmpl.Template.Settings["index"].(map[string]any)
		life, hasLife := index["lifecycle"].(map[string]any)
		if (ilm != "") != hasLife || hasLife && life["name"] != ilm {
			t.Errorf("ilm %q: index.lifecycle = %v", ilm, index["lifecycle"])
		}
	}
}

// TestTemplateMapsTheECSFields pins the type of every field an operator
// queries: keywords for exact filters, numbers for ranges, ip for CIDRs.
func TestTemplateMapsTheECSFields(t *testing.T) {
	raw, err := IndexTemplate(testOptions, "")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"@timestamp": "date", "message": "text", "log.level": "keyword", "log.logger": "keyword",
		"http.request.method": "keyword", "http.request.id": "keyword", "url.path": "keyword",
		"http.response.status_code": "short", "event.duration": "long", "client.ip": "ip",
		"user.id": "keyword", "service.name": "keyword", "error.message": "text", "error.type": "keyword",
		"host.name": "keyword", "ecs.version": "keyword", "event.dataset": "keyword",
	}
	for field, typ := range want {
		path := []any{"template", "mappings"}
		for _, part := range strings.Split(field, ".") {
			path = append(path, "properties", part)
		}
		v, err := lookup(doc, path)
		if err != nil {
			t.Errorf("%s is not mapped: %v", field, err)
			continue
		}
		if got := v.(map[string]any)["type"]; got != typ {
			t.Errorf("%s is %v, want %s", field, got, typ)
		}
	}
	kw, err := lookup(doc, []any{"template", "mappings", "properties", "message", "fields", "keyword", "type"})
	if err != nil || kw != "keyword" {
		t.Errorf("message.keyword = %v, %v; want a keyword sub-field", kw, err)
	}
}

func TestSetRefusesMissingPaths(t *testing.T) {
	doc := map[string]any{"a": map[string]any{"b": "x"}, "l": []any{"y"}}
	tests := []struct {
		path []any
		ok   bool
	}{
		{[]any{"a", "b"}, true}, {[]any{"l", 0}, true},
		{[]any{"a", "c"}, false}, {[]any{"l", 1}, false}, {[]any{"z", "b"}, false}, {[]any{"a", "b", "c"}, false},
	}
	for _, tt := range tests {
		if err := set(doc, tt.path, "v"); (err == nil) != tt.ok {
			t.Errorf("set(%v) = %v, want ok=%v", tt.path, err, tt.ok)
		}
	}
}

func TestGeneration(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{".ds-logs-soomcare-default-000002", 2, true},
		{".ds-logs-soomcare-default-2026.01.31-000017", 17, true},
		{"logs", 0, false}, {"000001", 0, false}, {"logs-", 0, false},
	}
	for _, tt := range tests {
		got, ok := generation(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("generation(%q) = %d, %v", tt.in, got, ok)
		}
	}
}

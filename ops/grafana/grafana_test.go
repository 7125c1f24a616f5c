package grafana

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// provisionedUID is the uid of the Prometheus data source that
// provisioning/datasources/prometheus.yml creates: the default of every
// dashboard's ${datasource} variable.
const provisionedUID = "soomcare-prometheus"

func dashboards(t *testing.T) []Dashboard {
	t.Helper()
	ds, err := Dashboards()
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) < 3 {
		t.Fatalf("%d dashboards, want at least api, cdc and reminders", len(ds))
	}
	return ds
}

var uidRe = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,40}$`)

// Every dashboard: a unique uid Grafana accepts, a unique title, the tag
// the dashboards link each other by, a ${datasource} variable defaulting to
// the provisioned Prometheus, and panels that each have that data source,
// a title and at least one non-empty query.
func TestDashboardStructure(t *testing.T) {
	uids, titles := map[string]string{}, map[string]string{}
	for _, d := range dashboards(t) {
		t.Run(d.File, func(t *testing.T) {
			if !uidRe.MatchString(d.UID) {
				t.Errorf("uid %q: want 1–40 of [a-zA-Z0-9_-]", d.UID)
			}
			if other, dup := uids[d.UID]; dup {
				t.Errorf("uid %q also in %s", d.UID, other)
			}
			uids[d.UID] = d.File
			if strings.TrimSpace(d.Title) == "" {
				t.Error("no title")
			}
			if other, dup := titles[d.Title]; dup {
				t.Errorf("title %q also in %s", d.Title, other)
			}
			titles[d.Title] = d.File
			if !slices.Contains(d.Tags, "soomcare") {
				t.Errorf("tags %q lack soomcare (the dashboards' links find each other by it)", d.Tags)
			}
			checkDatasourceVariable(t, d)
			checkPanels(t, d)
		})
	}
}

func checkDatasourceVariable(t *testing.T, d Dashboard) {
	t.Helper()
	for _, v := range d.Templating.List {
		if v.Name != "datasource" {
			continue
		}
		var q string
		_ = json.Unmarshal(v.Query, &q)
		if v.Type != "datasource" || q != "prometheus" {
			t.Errorf("variable datasource: type %q query %q, want datasource / prometheus", v.Type, q)
		}
		return
	}
	t.Error("no ${datasource} variable")
}

func checkPanels(t *testing.T, d Dashboard) {
	t.Helper()
	ids := map[int]bool{}
	for _, p := range d.Rows() {
		ids[p.ID] = true
	}
	leaves := d.Leaves()
	if len(leaves) < 8 {
		t.Errorf("%d panels: too few", len(leaves))
	}
	for _, p := range leaves {
		if p.ID == 0 || ids[p.ID] {
			t.Errorf("panel %q: id %d missing or not unique", p.Title, p.ID)
		}
		ids[p.ID] = true
		if strings.TrimSpace(p.Title) == "" {
			t.Errorf("panel %d has no title", p.ID)
		}
		if !isPrometheusVar(p.Datasource) {
			t.Errorf("panel %q: datasource %+v, want {type: prometheus, uid: ${datasource}}", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no target", p.Title)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if tg.RefID == "" || refs[tg.RefID] {
				t.Errorf("panel %q: refId %q missing or repeated", p.Title, tg.RefID)
			}
			refs[tg.RefID] = true
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("panel %q %s: empty expr", p.Title, tg.RefID)
			}
			if tg.Datasource != nil && !isPrometheusVar(tg.Datasource) {
				t.Errorf("panel %q %s: datasource %+v differs from the panel's", p.Title, tg.RefID, tg.Datasource)
			}
		}
	}
}

func isPrometheusVar(ds *Datasource) bool {
	return ds != nil && ds.Type == "prometheus" && ds.UID == "${datasource}"
}

// Every query of every dashboard parses as PromQL once Grafana's variables
// are expanded, and names its metrics.
func TestDashboardQueriesParse(t *testing.T) {
	for _, d := range dashboards(t) {
		t.Run(d.File, func(t *testing.T) {
			names, err := d.MetricNames()
			if err != nil {
				t.Fatal(err)
			}
			qs, _ := d.Queries()
			t.Logf("%d queries, %d metric names", len(qs), len(names))
		})
	}
}

// The dashboards show what issue #11 asks of each process; a panel removed
// by mistake fails here, not in front of an operator.
func TestDashboardsCoverTheProcesses(t *testing.T) {
	process := []string{"process_cpu_seconds_total", "process_resident_memory_bytes", "soomcare_memory_limit_bytes",
		"go_gc_duration_seconds_count", "go_sql_open_connections", "go_sql_in_use_connections", "go_sql_wait_count_total",
		"go_sql_wait_duration_seconds_total", "soomcare_mysql_statement_duration_seconds_bucket"}
	want := map[string][]string{
		"api.json": append([]string{"soomcare_http_requests_total", "soomcare_http_request_duration_seconds_bucket",
			"soomcare_http_requests_in_flight", "soomcare_http_throttled_total", "soomcare_engine_call_duration_seconds_bucket",
			"soomcare_engine_call_duration_seconds_count", "soomcare_dependency_up"}, process...),
		"cdc.json": append([]string{"soomcare_cdc_lag_seconds", "soomcare_cdc_events_total", "soomcare_cdc_documents_total",
			"soomcare_cdc_dead_letters_total", "soomcare_cdc_checkpoints_total", "soomcare_cdc_active", "soomcare_cdc_bulk_seconds_bucket",
			"soomcare_engine_call_duration_seconds_bucket"}, process...),
		"reminders.json": append([]string{"soomcare_reminder_deliveries_total", "soomcare_reminder_due_to_sent_seconds_bucket",
			"soomcare_reminder_ticks_total", "soomcare_reminder_last_tick_timestamp_seconds"}, process...),
	}
	got := map[string]bool{}
	for _, d := range dashboards(t) {
		names, err := d.MetricNames()
		if err != nil {
			t.Fatal(err)
		}
		got[d.File] = true
		for _, n := range want[d.File] {
			if _, ok := names[n]; !ok {
				t.Errorf("%s shows no %s", d.File, n)
			}
		}
	}
	for f := range want {
		if !got[f] {
			t.Errorf("no dashboard %s", f)
		}
	}
}

// The provisioned data source is the default of each dashboard's variable,
// and the provider loads a folder (docker-compose mounts the JSON files
// there; config/compose_test.go checks the mount).
func TestProvisioning(t *testing.T) {
	b, err := os.ReadFile("provisioning/datasources/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	var dsDoc struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			UID, Type, URL string
			IsDefault      bool `yaml:"isDefault"`
		}
	}
	if err := yaml.Unmarshal(b, &dsDoc); err != nil {
		t.Fatal(err)
	}
	var prom []string
	for _, ds := range dsDoc.Datasources {
		if ds.Type == "prometheus" {
			prom = append(prom, ds.UID)
			if !ds.IsDefault || !strings.HasPrefix(ds.URL, "http://prometheus:") {
				t.Errorf("prometheus data source %+v: want the default, at the compose service prometheus", ds)
			}
		}
	}
	if dsDoc.APIVersion != 1 || !slices.Equal(prom, []string{provisionedUID}) {
		t.Fatalf("apiVersion %d, prometheus data sources %q: want 1 and [%s]", dsDoc.APIVersion, prom, provisionedUID)
	}
	for _, d := range dashboards(t) {
		var cur struct{ Value string }
		if err := json.Unmarshal(currentOf(t, d.File), &cur); err != nil || cur.Value != provisionedUID {
			t.Errorf("%s: ${datasource} defaults to %q (%v), want %q", d.File, cur.Value, err, provisionedUID)
		}
	}

	b, err = os.ReadFile("provisioning/dashboards/soomcare.yml")
	if err != nil {
		t.Fatal(err)
	}
	var prov struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Type    string
			Options struct{ Path string }
		}
	}
	if err := yaml.Unmarshal(b, &prov); err != nil {
		t.Fatal(err)
	}
	if prov.APIVersion != 1 || len(prov.Providers) != 1 || prov.Providers[0].Type != "file" || !strings.HasPrefix(prov.Providers[0].Options.Path, "/") {
		t.Errorf("dashboard providers %+v: want one of type file with an absolute path", prov)
	}
}

// currentOf is the "current" object of the datasource variable, read from
// the file itself (Variable keeps only what the other checks need).
func currentOf(t *testing.T, file string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile("dashboards/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Templating struct {
			List []struct {
				Name    string
				Current json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, v := range doc.Templating.List {
		if v.Name == "datasource" {
			return v.Current
		}
	}
	return nil
}

func TestExpandAndNames(t *testing.T) {
	declared := []string{"instance", "job"}
	tests := []struct {
		name, expr string
		want       string // space-separated names
		wantErr    string // substring of the error; "" for none
	}{
		{"counter rate", `sum by (route) (rate(a_total{job="x", instance=~"$instance"}[$__rate_interval]))`, "a_total", ""},
		{"histogram", `histogram_quantile(0.99, sum by (le) (rate(h_bucket{job=~"${job}"}[5m]))) / on() group_left h_count`, "h_bucket h_count", ""},
		{"braced with format and old syntax", `x{instance=~"${instance:regex}", job="[[job]]"} or y offset 1w`, "x y", ""},
		{"__name__ matcher", `{__name__="b_total", job="x"}`, "b_total", ""},
		{"time and vector", `time() - max(t_seconds) or vector(0)`, "t_seconds", ""},
		{"builtins", `increase(c[$__range]) + rate(c[$__interval])`, "c", ""},
		{"undeclared variable", `rate(a{x="$nope"}[1m])`, "", "undeclared variable $nope"},
		{"no metric name", `sum(rate({job="x"}[1m]))`, "", "names no metric"},
		{"not PromQL", `sum(rate(a[1m])`, "", "parse error"},
		{"unknown function", `rates(a[1m])`, "", "unknown function"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expr, err := Expand(tt.expr, declared)
			var names []string
			if err == nil {
				names, err = Names(expr)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(names, " "); got != tt.want {
				t.Errorf("names %q, want %q", got, tt.want)
			}
		})
	}
}

func TestVariableExpr(t *testing.T) {
	tests := []struct {
		raw, want string
		ok        bool
	}{
		{`"label_values(up{job=\"a\"}, instance)"`, `up{job="a"}`, true},
		{`{"query": "label_values(x{job=~\"$job\"},instance)", "refId": "A"}`, `x{job=~"$job"}`, true},
		{`"label_values(instance)"`, "", false},
		{`"query_result(up)"`, "", false},
		{`42`, "", false},
	}
	for _, tt := range tests {
		got, err := variableExpr(json.RawMessage(tt.raw))
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("variableExpr(%s) = %q, %v; want %q (ok %v)", tt.raw, got, err, tt.want, tt.ok)
		}
	}
}

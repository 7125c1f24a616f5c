// Package grafana holds the Grafana dashboards of 숨케어 as data
// (dashboards/*.json, embedded here; docker-compose mounts the same files)
// and reads them for the tests that keep them honest: the structure of each
// dashboard, every query parsed as PromQL, and the metric names the queries
// use (compared with a live scrape of serve, cdc and reminders in
// telemetry/dashboards_integration_test.go).
package grafana

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

//go:embed dashboards/*.json
var files embed.FS

// Dashboard is the part of a Grafana dashboard JSON model the checks read.
type Dashboard struct {
	File       string   `json:"-"` // base name under dashboards/
	UID        string   `json:"uid"`
	Title      string   `json:"title"`
	Tags       []string `json:"tags"`
	Panels     []Panel  `json:"panels"`
	Templating struct {
		List []Variable `json:"list"`
	} `json:"templating"`
}

// Panel is one panel; a row lists its panels only while collapsed.
type Panel struct {
	ID         int         `json:"id"`
	Title      string      `json:"title"`
	Type       string      `json:"type"`
	Datasource *Datasource `json:"datasource"`
	Targets    []Target    `json:"targets"`
	Panels     []Panel     `json:"panels"`
}

// Target is one query of a panel.
type Target struct {
	RefID      string      `json:"refId"`
	Expr       string      `json:"expr"`
	Datasource *Datasource `json:"datasource"`
}

// Datasource references a data source by type and uid (or a variable).
type Datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Variable is one template variable (templating.list).
type Variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"` // datasource, query, custom, interval, …
	Query      json.RawMessage `json:"query"`
	Datasource *Datasource     `json:"datasource"`
}

// Dashboards reads every embedded dashboard, sorted by file name.
func Dashboards() ([]Dashboard, error) {
	names, err := fs.Glob(files, "dashboards/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]Dashboard, 0, len(names))
	for _, name := range names {
		b, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var d Dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		d.File = path.Base(name)
		out = append(out, d)
	}
	return out, nil
}

// Leaves are the dashboard's panels that show data: rows are left out, the
// panels of collapsed rows are included.
func (d Dashboard) Leaves() []Panel {
	var out []Panel
	var walk func([]Panel)
	walk = func(ps []Panel) {
		for _, p := range ps {
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			out = append(out, p)
		}
	}
	walk(d.Panels)
	return out
}

// Rows are the dashboard's row panels.
func (d Dashboard) Rows() []Panel {
	var out []Panel
	for _, p := range d.Panels {
		if p.Type == "row" {
			out = append(out, p)
		}
	}
	return out
}

// Query is one PromQL expression of a dashboard and where it is.
type Query struct {
	Where string // "panel \"Request rate\" A" or "variable instance"
	Expr  string // as written, Grafana variables included
}

// Queries lists every panel target and every query variable's selector.
func (d Dashboard) Queries() ([]Query, error) {
	var out []Query
	for _, p := range d.Leaves() {
		for _, t := range p.Targets {
			out = append(out, Query{Where: fmt.Sprintf("panel %q %s", p.Title, t.RefID), Expr: t.Expr})
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		expr, err := variableExpr(v.Query)
		if err != nil {
			return nil, fmt.Errorf("variable %s: %w", v.Name, err)
		}
		out = append(out, Query{Where: "variable " + v.Name, Expr: expr})
	}
	return out, nil
}

// labelValues matches the Prometheus data source's label_values(selector, label).
var labelValues = regexp.MustCompile(`^\s*label_values\(\s*(.+)\s*,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$`)

// variableExpr is the PromQL selector of a query variable: its query is a
// string or {"query": "…"}, and only label_values(selector, label) is used
// here (a label_values without selector would list every series).
func variableExpr(raw json.RawMessage) (string, error) {
	var q string
	if err := json.Unmarshal(raw, &q); err != nil {
		var obj struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			return "", fmt.Errorf("query is neither a string nor {\"query\": …}: %w", err)
		}
		q = obj.Query
	}
	m := labelValues.FindStringSubmatch(q)
	if m == nil {
		return "", fmt.Errorf("query %q: want label_values(<selector>, <label>)", q)
	}
	return m[1], nil
}

// builtins are Grafana's interval variables, replaced by a duration.
var builtins = map[string]string{"__rate_interval": "1m", "__interval": "30s", "__range": "1h"}

// variableRef matches $name, ${name}, ${name:format} and [[name]].
var variableRef = regexp.MustCompile(`\$\{([a-zA-Z0-9_]+)(?::[a-zA-Z]+)?\}|\$([a-zA-Z0-9_]+)|\[\[([a-zA-Z0-9_]+)\]\]`)

// Expand replaces Grafana's variables in expr so that it parses as PromQL:
// the interval variables by a duration, each declared variable by a plain
// value (they stand inside label matchers). An undeclared variable is an
// error: Grafana would send it as written.
func Expand(expr string, declared []string) (string, error) {
	known := map[string]bool{}
	for _, n := range declared {
		known[n] = true
	}
	var errs []error
	out := variableRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := variableRef.FindStringSubmatch(ref)
		name := m[1] + m[2] + m[3]
		if d, ok := builtins[name]; ok {
			return d
		}
		if !known[name] {
			errs = append(errs, fmt.Errorf("undeclared variable %s", ref))
			return ref
		}
		return "value"
	})
	return out, errors.Join(errs...)
}

// Names is the sorted set of metric names expr selects. expr must be PromQL
// (after Expand). A selector without a metric name is an error: what it
// selects cannot be checked against the binaries.
func Names(expr string) ([]string, error) {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var errs []error
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		if name == "" {
			errs = append(errs, fmt.Errorf("selector %s names no metric", vs))
			return nil
		}
		seen[name] = true
		return nil
	})
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, errors.Join(errs...)
}

// VariableNames are the names of the dashboard's template variables.
func (d Dashboard) VariableNames() []string {
	out := make([]string, 0, len(d.Templating.List))
	for _, v := range d.Templating.List {
		out = append(out, v.Name)
	}
	return out
}

// MetricNames maps every metric name the dashboard's queries select to the
// queries that select it.
func (d Dashboard) MetricNames() (map[string][]string, error) {
	qs, err := d.Queries()
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	var errs []error
	for _, q := range qs {
		expr, err := Expand(q.Expr, d.VariableNames())
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", q.Where, err))
			continue
		}
		names, err := Names(expr)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q: %w", q.Where, strings.TrimSpace(q.Expr), err))
			continue
		}
		for _, n := range names {
			out[n] = append(out[n], q.Where)
		}
	}
	return out, errors.Join(errs...)
}

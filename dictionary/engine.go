package dictionary

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/soomcare/soomcare/analyzers"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/mappings"
)

// Checker asks the engine whether it accepts a full set of rules. Check
// returns nil, a *PluginMissingError, an *EngineRefusal, or another error
// (the engine unreachable: engine.ErrUnavailable).
type Checker interface {
	Check(ctx context.Context, r analyzers.Rules) error
}

// EngineRefusal is the engine refusing the rules (HTTP 400 from _analyze).
// Type and Reason are the engine's words: log them (withheld), never show
// them to a client.
type EngineRefusal struct {
	Type, Reason string
}

func (e *EngineRefusal) Error() string {
	return "dictionary: the engine refused the rules: " + e.Type + ": " + e.Reason
}

// Plugins the nori analysis needs: analysis-nori (nori_tokenizer,
// nori_part_of_speech, nori_readingform) and analysis-common (synonym_graph,
// edge_ngram, pattern_replace; a module inside the usual distributions, not in
// Elasticsearch's integ-test build).
var requiredPlugins = []string{"analysis-nori", "analysis-common"}

// Engine checks and analyses rules on a live engine, with the analyzers of
// the nori profile (mappings/settings_nori.json) built inline from the rules:
// no index is needed or touched.
type Engine struct {
	c *engine.Client
}

var _ Checker = (*Engine)(nil)

// NewEngine returns the engine checker of c.
func NewEngine(c *engine.Client) *Engine { return &Engine{c: c} }

// checkedAnalyzers are the analyzers Check builds: ko_index uses the user
// dictionary in decompound mode mixed, ko_search in mode discard with the
// synonyms (which the engine parses with the analyzer before them).
var checkedAnalyzers = []string{"ko_index", "ko_search"}

// Check builds every analyzer that uses the rules, through _analyze with the
// candidate rules inline; the engine refuses what it would refuse when
// creating an index (nori's malformed entries, Elasticsearch 8.13+'s
// duplicate entries, synonym rules it cannot parse).
func (e *Engine) Check(ctx context.Context, r analyzers.Rules) error {
	if err := e.plugins(ctx); err != nil {
		return err
	}
	for _, name := range checkedAnalyzers {
		if _, err := e.Analyze(ctx, r, name, "천식"); err != nil {
			return err
		}
	}
	return nil
}

// plugins fails with *PluginMissingError unless the engine has every
// required plugin.
func (e *Engine) plugins(ctx context.Context) error {
	have, err := e.c.Plugins(ctx)
	if err != nil {
		return fmt.Errorf("dictionary: engine plugins: %w", err)
	}
	var missing []string
	for _, p := range requiredPlugins {
		if !slices.Contains(have, p) {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return &PluginMissingError{Engine: e.c.Kind, Missing: missing}
	}
	return nil
}

// Token is one token of an analysis.
type Token struct {
	Token    string `json:"token"`
	Position int    `json:"position"`
}

// Analyze returns the tokens analyzer (ko_index, ko_search, prefix_index, …
// of the nori profile) makes of text with rules r, built inline. A refusal
// is an *EngineRefusal.
func (e *Engine) Analyze(ctx context.Context, r analyzers.Rules, analyzer, text string) ([]Token, error) {
	req, err := inlineAnalyzer(r, analyzer)
	if err != nil {
		return nil, err
	}
	req["text"] = text
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("dictionary: %w", err)
	}
	es := e.c.ES
	res, err := es.Indices.Analyze(es.Indices.Analyze.WithContext(ctx), es.Indices.Analyze.WithBody(bytes.NewReader(body)))
	if err != nil {
		return nil, fmt.Errorf("dictionary: analyze: %w: %w", engine.ErrUnavailable, err)
	}
	defer res.Body.Close()
	if err := engine.CheckStatus(res); err != nil {
		var se *engine.StatusError
		if errors.As(err, &se) && se.Status == 400 {
			return nil, &EngineRefusal{Type: se.Type, Reason: se.Reason}
		}
		return nil, fmt.Errorf("dictionary: analyze: %w", err)
	}
	var out struct {
		Tokens []Token `json:"tokens"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("dictionary: analyze: %w", err)
	}
	return out.Tokens, nil
}

// analysis is the analysis section of index settings.
type analysis struct {
	CharFilter map[string]json.RawMessage `json:"char_filter"`
	Tokenizer  map[string]json.RawMessage `json:"tokenizer"`
	Filter     map[string]json.RawMessage `json:"filter"`
	Analyzer   map[string]struct {
		CharFilter []string `json:"char_filter"`
		Tokenizer  string   `json:"tokenizer"`
		Filter     []string `json:"filter"`
	} `json:"analyzer"`
}

// inlineAnalyzer is the body of an index-less _analyze that builds analyzer
// of the nori profile with rules r: every custom component inline, built-in
// ones by name.
func inlineAnalyzer(r analyzers.Rules, analyzer string) (map[string]any, error) {
	body, err := mappings.IndexWith(mappings.Contents, mappings.Options{Profile: mappings.ProfileNori, Rules: &r})
	if err != nil {
		return nil, fmt.Errorf("dictionary: %w", err)
	}
	var idx struct {
		Settings struct {
			Index struct {
				Analysis analysis `json:"analysis"`
			} `json:"index"`
		} `json:"settings"`
	}
	if err := json.Unmarshal(body, &idx); err != nil {
		return nil, fmt.Errorf("dictionary: settings: %w", err)
	}
	a := idx.Settings.Index.Analysis
	def, ok := a.Analyzer[analyzer]
	if !ok {
		names := make([]string, 0, len(a.Analyzer))
		for n := range a.Analyzer {
			names = append(names, n)
		}
		slices.Sort(names)
		return nil, fmt.Errorf("dictionary: no analyzer %q (known: %s)", analyzer, strings.Join(names, ", "))
	}
	resolve := func(defs map[string]json.RawMessage, names []string) []any {
		out := make([]any, len(names))
		for i, n := range names {
			out[i] = component(defs, n)
		}
		return out
	}
	req := map[string]any{"tokenizer": component(a.Tokenizer, def.Tokenizer)}
	if len(def.CharFilter) > 0 {
		req["char_filter"] = resolve(a.CharFilter, def.CharFilter)
	}
	if len(def.Filter) > 0 {
		req["filter"] = resolve(a.Filter, def.Filter)
	}
	return req, nil
}

// component is a custom component's definition, or a built-in's name.
func component(defs map[string]json.RawMessage, name string) any {
	if d, ok := defs[name]; ok {
		return d
	}
	return name
}

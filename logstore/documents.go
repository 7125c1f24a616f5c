// Package logstore keeps the processes' JSON log lines in the search engine:
// an index template with Elastic Common Schema mappings, a data stream, and a
// lifecycle policy — ILM on Elasticsearch, ISM on OpenSearch — that rolls the
// write index over by size or age and deletes backing indices a retention
// period after their rollover. The documents are embedded JSON files
// (data/); the configuration only fills in names, sizes and ages.
//
// Where an engine has no lifecycle plugin, Rollover and Prune do the same
// work through core APIs (_rollover, index deletion), run from cron.
package logstore

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/soomcare/soomcare/config"
)

//go:embed data/*.json
var data embed.FS

// Options are the names, sizes and ages the documents are built with.
type Options struct {
	DataStream   string // also the name of the index template and of the policy
	Retention    string // engine time units: 30d
	RolloverSize string // engine byte units: 30gb
	RolloverAge  string // engine time units: 1d
	// Template, when set, is the index template used instead of the ECS
	// one of data/index_template.json, in the same shape (its
	// index_patterns become the data stream's name): another data stream
	// with its own mappings (search insights) and the same lifecycle.
	Template []byte
}

// OptionsFrom takes the options from a data stream's lifecycle keys: the
// logs section, or the insights section's (config.Insights.Lifecycle).
func OptionsFrom(c config.Lifecycle) Options {
	return Options{DataStream: c.DataStream, Retention: c.Retention, RolloverSize: c.RolloverSize, RolloverAge: c.RolloverAge}
}

// IndexTemplate is the body of PUT _index_template/<data stream>. With a
// non-empty ilmPolicy the backing indices name that ILM policy
// (index.lifecycle.name); ISM policies find their indices themselves
// (ism_template), so OpenSearch templates never carry a lifecycle setting.
func IndexTemplate(o Options, ilmPolicy string) ([]byte, error) {
	raw, name := o.Template, "template of "+o.DataStream
	if raw == nil {
		var err error
		if raw, err = data.ReadFile("data/index_template.json"); err != nil {
			return nil, fmt.Errorf("logstore: %w", err)
		}
		name = "data/index_template.json"
	}
	return buildFrom(raw, name, func(doc map[string]any) error {
		if err := set(doc, []any{"index_patterns"}, []any{o.DataStream}); err != nil {
			return err
		}
		if ilmPolicy == "" {
			return nil
		}
		index, err := lookup(doc, []any{"template", "settings", "index"})
		if err != nil {
			return err
		}
		index.(map[string]any)["lifecycle"] = map[string]any{"name": ilmPolicy}
		return nil
	})
}

// ILMPolicy is the body of PUT _ilm/policy/<data stream> (Elasticsearch).
func ILMPolicy(o Options) ([]byte, error) {
	return build("ilm_policy.json", func(doc map[string]any) error {
		return setAll(doc, map[string]pathValue{
			"size":      {[]any{"policy", "phases", "hot", "actions", "rollover", "max_primary_shard_size"}, o.RolloverSize},
			"age":       {[]any{"policy", "phases", "hot", "actions", "rollover", "max_age"}, o.RolloverAge},
			"retention": {[]any{"policy", "phases", "delete", "min_age"}, o.Retention},
		})
	})
}

// ISMPolicy is the body of PUT _plugins/_ism/policies/<data stream>
// (OpenSearch). ISM matches ism_template patterns against the data stream's
// name for its backing indices, so the pattern is the data stream itself.
func ISMPolicy(o Options) ([]byte, error) {
	return build("ism_policy.json", func(doc map[string]any) error {
		return setAll(doc, map[string]pathValue{
			"size":      {[]any{"policy", "states", 0, "actions", 0, "rollover", "min_primary_shard_size"}, o.RolloverSize},
			"age":       {[]any{"policy", "states", 0, "actions", 0, "rollover", "min_index_age"}, o.RolloverAge},
			"retention": {[]any{"policy", "states", 0, "transitions", 0, "conditions", "min_rollover_age"}, o.Retention},
			"pattern":   {[]any{"policy", "ism_template", 0, "index_patterns"}, []any{o.DataStream}},
		})
	})
}

// pathValue is a value to put at an existing place of a document.
type pathValue struct {
	path  []any // map keys (string) and array indices (int)
	value any
}

func setAll(doc map[string]any, values map[string]pathValue) error {
	for _, pv := range values {
		if err := set(doc, pv.path, pv.value); err != nil {
			return err
		}
	}
	return nil
}

// build decodes an embedded document, lets fill change it and encodes it.
func build(name string, fill func(map[string]any) error) ([]byte, error) {
	raw, err := data.ReadFile("data/" + name)
	if err != nil {
		return nil, fmt.Errorf("logstore: %w", err)
	}
	return buildFrom(raw, "data/"+name, fill)
}

// buildFrom is build over a document given as bytes.
func buildFrom(raw []byte, name string, fill func(map[string]any) error) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("logstore: %s: %w", name, err)
	}
	if err := fill(doc); err != nil {
		return nil, fmt.Errorf("logstore: %s: %w", name, err)
	}
	return json.Marshal(doc)
}

// set replaces the value at path, which must already exist: a renamed field
// in a data file fails loudly instead of adding a new one beside it.
func set(doc map[string]any, path []any, value any) error {
	parent, err := lookup(doc, path[:len(path)-1])
	if err != nil {
		return err
	}
	switch p := parent.(type) {
	case map[string]any:
		key, _ := path[len(path)-1].(string)
		if _, ok := p[key]; !ok {
			return fmt.Errorf("no field %v", path)
		}
		p[key] = value
	case []any:
		i, _ := path[len(path)-1].(int)
		if i < 0 || i >= len(p) {
			return fmt.Errorf("no element %v", path)
		}
		p[i] = value
	default:
		return fmt.Errorf("%v is not an object or array", path)
	}
	return nil
}

// lookup returns the value at path.
func lookup(doc map[string]any, path []any) (any, error) {
	var cur any = doc
	for n, step := range path {
		switch c := cur.(type) {
		case map[string]any:
			key, ok := step.(string)
			v, found := c[key]
			if !ok || !found {
				return nil, fmt.Errorf("no field %v", path[:n+1])
			}
			cur = v
		case []any:
			i, ok := step.(int)
			if !ok || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("no element %v", path[:n+1])
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("%v is not an object or array", path[:n])
		}
	}
	return cur, nil
}

// generation is the number at the end of a backing index's name
// (.ds-logs-soomcare-default-000002, or with a date on Elasticsearch:
// .ds-logs-soomcare-default-2026.01.31-000002).
func generation(index string) (int, bool) {
	i := len(index)
	for i > 0 && index[i-1] >= '0' && index[i-1] <= '9' {
		i--
	}
	if i == len(index) || i == 0 || index[i-1] != '-' {
		return 0, false
	}
	n, err := strconv.Atoi(index[i:])
	return n, err == nil
}

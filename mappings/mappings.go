// Package mappings holds the create-index bodies (settings and mappings) of the
// search indices contents, posts and users as JSON files embedded in the
// binary, and renders them with the analysis data of package analyzers
// injected, so the user dictionary, synonyms and stop tags live in one place.
//
// Two analysis profiles share the same field layout and analyzer names, so
// query builders never care which one an index was built with:
//
//   - nori (the default): Korean analysis for production; needs the
//     analysis-nori plugin and the analysis-common module (mapping char filter,
//     ngram/edge_ngram, synonym_graph), both present in every regular
//     Elasticsearch or OpenSearch distribution with nori installed.
//   - basic: only what a bare Elasticsearch has (the integ-test distribution
//     without analysis-common): standard/whitespace/keyword tokenizers and the
//     lowercase filter. Same fields, no Korean morphology, no n-grams, no
//     synonyms; for client and index-lifecycle tests, not for search quality.
//
// The engines have no ICU here, so the indexer NFC-normalises text in Go before
// indexing (a decomposed 천식 would otherwise not match), and fills the chosung,
// qwerty and suggest fields with package hangul (see each mapping's _meta).
package mappings

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/soomcare/soomcare/analyzers"
)

//go:embed *.json
var files embed.FS

// Index names (the aliases the API searches) and analysis profiles.
const (
	Contents = "contents"
	Posts    = "posts"
	Users    = "users"

	ProfileNori  = "nori"
	ProfileBasic = "basic"
)

// Errors of Index and Mapping, matched with errors.Is.
var (
	ErrUnknownIndex   = errors.New("mappings: unknown index")
	ErrUnknownProfile = errors.New("mappings: unknown analysis profile")
)

// Placeholders in the settings files, each a JSON string replaced by a JSON
// array of the analyzers data.
const (
	placeholderUserDictionary = `"__USER_DICTIONARY__"`
	placeholderSynonyms       = `"__SYNONYMS__"`
	placeholderStopTags       = `"__STOP_TAGS__"`
)

var leftoverPlaceholder = regexp.MustCompile(`"__[A-Z_]+__"`)

// Names returns the index names, in a fixed order.
func Names() []string { return []string{Contents, Posts, Users} }

// Profiles returns the analysis profiles; the first is the default.
func Profiles() []string { return []string{ProfileNori, ProfileBasic} }

// Index returns the complete create-index body, {"settings":…,"mappings":…},
// of index name under an analysis profile ("" means nori), with the embedded
// analysis rules, one shard and auto-expanded replicas, as compact JSON.
// It fails with ErrUnknownIndex or ErrUnknownProfile.
func Index(name, profile string) ([]byte, error) {
	return IndexWith(name, Options{Profile: profile})
}

// Options shape a create-index body beyond its mapping.
type Options struct {
	Profile string           // analysis profile; "" means nori
	Rules   *analyzers.Rules // analysis rules; nil means analyzers.Embedded()
	// Shards is number_of_shards (0: 1). Replicas, when set, is
	// number_of_replicas; nil keeps auto_expand_replicas 0-1.
	Shards   int
	Replicas *int
}

// IndexWith is Index with options.
func IndexWith(name string, o Options) ([]byte, error) {
	mapping, err := Mapping(name)
	if err != nil {
		return nil, err
	}
	settings, err := settingsWith(o)
	if err != nil {
		return nil, err
	}
	var body bytes.Buffer
	body.WriteString(`{"settings":`)
	body.Write(settings)
	body.WriteString(`,"mappings":`)
	body.Write(mapping)
	body.WriteString(`}`)
	return body.Bytes(), nil
}

// Mapping returns the mappings object of index name (the body of a PUT
// _mapping), as compact JSON. It fails with ErrUnknownIndex.
func Mapping(name string) ([]byte, error) {
	if !slices.Contains(Names(), name) {
		return nil, fmt.Errorf("%w %q (known: %v)", ErrUnknownIndex, name, Names())
	}
	return load(name + ".json")
}

// SchemaVersion returns the _meta.schema_version of index name: it grows
// whenever the documents' shape or their analysis changes, so a running index
// older than the binary's is known to need a rebuild (strict mappings reject
// new fields; a changed analyzer only applies to documents indexed after it).
// Version 2 of every index: posts gained excerpt, and the en analyzer splits
// Latin and digits from Hangul (FEV1이 → fev1, 이). It fails with
// ErrUnknownIndex.
func SchemaVersion(name string) (int, error) {
	raw, err := Mapping(name)
	if err != nil {
		return 0, err
	}
	var m struct {
		Meta struct {
			SchemaVersion int `json:"schema_version"`
		} `json:"_meta"`
	}
	if err := json.Unmarshal(raw, &m); err != nil || m.Meta.SchemaVersion < 1 {
		return 0, fmt.Errorf("mappings: %s.json: _meta.schema_version missing or invalid", name)
	}
	return m.Meta.SchemaVersion, nil
}

// Settings returns the index settings of an analysis profile ("" means nori)
// with the user dictionary, synonyms and stop tags injected, as compact JSON.
// It fails with ErrUnknownProfile.
func Settings(profile string) ([]byte, error) {
	return settingsWith(Options{Profile: profile})
}

func settingsWith(o Options) ([]byte, error) {
	raw, err := analysisSettings(o.Profile, o.Rules)
	if err != nil {
		return nil, err
	}
	if o.Shards == 0 && o.Replicas == nil {
		return raw, nil
	}
	return shaped(raw, o.Shards, o.Replicas)
}

// shaped sets number_of_shards and number_of_replicas in compact settings.
func shaped(raw []byte, shards int, replicas *int) ([]byte, error) {
	var settings map[string]any
	if err := json.Unmarshal(raw, &settings); err != nil {
		return nil, fmt.Errorf("mappings: %w", err)
	}
	idx, _ := settings["index"].(map[string]any)
	if idx == nil {
		idx = map[string]any{}
		settings["index"] = idx
	}
	if shards > 0 {
		idx["number_of_shards"] = shards
	}
	if replicas != nil {
		delete(idx, "auto_expand_replicas")
		idx["number_of_replicas"] = *replicas
	}
	return json.Marshal(settings)
}

func analysisSettings(profile string, rules *analyzers.Rules) ([]byte, error) {
	if profile == "" {
		profile = ProfileNori
	}
	if rules == nil {
		r := analyzers.Embedded()
		rules = &r
	}
	if !slices.Contains(Profiles(), profile) {
		return nil, fmt.Errorf("%w %q (known: %v)", ErrUnknownProfile, profile, Profiles())
	}
	raw, err := files.ReadFile("settings_" + profile + ".json")
	if err != nil {
		return nil, fmt.Errorf("mappings: %w", err)
	}
	for placeholder, values := range map[string][]string{
		placeholderUserDictionary: rules.UserDictionary,
		placeholderSynonyms:       rules.Synonyms,
		placeholderStopTags:       rules.StopTags,
	} {
		list, err := json.Marshal(values)
		if err != nil {
			return nil, fmt.Errorf("mappings: %w", err)
		}
		raw = bytes.ReplaceAll(raw, []byte(placeholder), list)
	}
	if p := leftoverPlaceholder.Find(raw); p != nil {
		return nil, fmt.Errorf("mappings: settings_%s.json: unknown placeholder %s", profile, p)
	}
	return compact("settings_"+profile+".json", raw)
}

func load(file string) ([]byte, error) {
	raw, err := files.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("mappings: %w", err)
	}
	return compact(file, raw)
}

func compact(file string, raw []byte) ([]byte, error) {
	var out bytes.Buffer
	if err := json.Compact(&out, raw); err != nil {
		return nil, fmt.Errorf("mappings: %s: %w", file, err)
	}
	return out.Bytes(), nil
}

package mappings_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/analyzers"
	"github.com/soomcare/soomcare/mappings"
)

type body struct {
	Settings struct {
		Index struct {
			Analysis analysis `json:"analysis"`
		} `json:"index"`
	} `json:"settings"`
	Mappings struct {
		Dynamic    string           `json:"dynamic"`
		Meta       map[string]any   `json:"_meta"`
		Properties map[string]field `json:"properties"`
	} `json:"mappings"`
}

type analysis struct {
	CharFilter map[string]map[string]any `json:"char_filter"`
	Tokenizer  map[string]map[string]any `json:"tokenizer"`
	Filter     map[string]map[string]any `json:"filter"`
	Normalizer map[string]component      `json:"normalizer"`
	Analyzer   map[string]component      `json:"analyzer"`
}

type component struct {
	Type       string   `json:"type"`
	CharFilter []string `json:"char_filter"`
	Tokenizer  string   `json:"tokenizer"`
	Filter     []string `json:"filter"`
}

type field struct {
	Type           string           `json:"type"`
	Analyzer       string           `json:"analyzer"`
	SearchAnalyzer string           `json:"search_analyzer"`
	Normalizer     string           `json:"normalizer"`
	Fields         map[string]field `json:"fields"`
}

func render(t *testing.T, name, profile string) ([]byte, body) {
	t.Helper()
	raw, err := mappings.Index(name, profile)
	if err != nil {
		t.Fatalf("Index(%q, %q): %v", name, profile, err)
	}
	if !json.Valid(raw) {
		t.Fatalf("Index(%q, %q) is not valid JSON", name, profile)
	}
	var b body
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("Index(%q, %q): %v", name, profile, err)
	}
	return raw, b
}

// each calls fn for every field and subfield, with its dotted path.
func each(props map[string]field, prefix string, fn func(path string, f field)) {
	for name, f := range props {
		fn(prefix+name, f)
		each(f.Fields, prefix+name+".", fn)
	}
}

func TestEveryIndexAndProfileRenders(t *testing.T) {
	for _, name := range mappings.Names() {
		for _, profile := range append(mappings.Profiles(), "") {
			raw, b := render(t, name, profile)
			if bytes.Contains(raw, []byte(`"__`)) {
				t.Errorf("%s/%s: placeholder left in %s", name, profile, raw)
			}
			if b.Mappings.Dynamic != "strict" {
				t.Errorf("%s/%s: dynamic = %q, want strict", name, profile, b.Mappings.Dynamic)
			}
			if b.Mappings.Meta["soomcare_index"] != name {
				t.Errorf("%s/%s: _meta.soomcare_index = %v", name, profile, b.Mappings.Meta["soomcare_index"])
			}
			for _, f := range []string{"id", "chosung", "qwerty", "suggest"} {
				if _, ok := b.Mappings.Properties[f]; !ok {
					t.Errorf("%s/%s: no field %q", name, profile, f)
				}
			}
			// Every analyzer and normalizer a field names is defined (or built in).
			an := b.Settings.Index.Analysis
			each(b.Mappings.Properties, "", func(path string, f field) {
				for _, a := range []string{f.Analyzer, f.SearchAnalyzer} {
					if _, ok := an.Analyzer[a]; a != "" && a != "standard" && !ok {
						t.Errorf("%s/%s: %s uses undefined analyzer %q", name, profile, path, a)
					}
				}
				if _, ok := an.Normalizer[f.Normalizer]; f.Normalizer != "" && !ok {
					t.Errorf("%s/%s: %s uses undefined normalizer %q", name, profile, path, f.Normalizer)
				}
			})
		}
	}
}

func TestDefaultProfileIsNori(t *testing.T) {
	def, _ := mappings.Index(mappings.Posts, "")
	nori, _ := mappings.Index(mappings.Posts, mappings.ProfileNori)
	if !bytes.Equal(def, nori) {
		t.Error(`Index(posts, "") differs from Index(posts, "nori")`)
	}
}

func TestProfilesShareAnalyzerNames(t *testing.T) {
	_, nori := render(t, mappings.Contents, mappings.ProfileNori)
	_, basic := render(t, mappings.Contents, mappings.ProfileBasic)
	names := func(m map[string]component) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	if a, b := names(nori.Settings.Index.Analysis.Analyzer), names(basic.Settings.Index.Analysis.Analyzer); !slices.Equal(a, b) {
		t.Errorf("analyzers differ: nori %v, basic %v", a, b)
	}
}

func TestNoriProfileCarriesTheAnalyzersData(t *testing.T) {
	_, b := render(t, mappings.Contents, mappings.ProfileNori)
	an := b.Settings.Index.Analysis
	strs := func(v any) []string {
		var out []string
		list, _ := v.([]any)
		for _, s := range list {
			str, _ := s.(string)
			out = append(out, str)
		}
		return out
	}
	for _, tok := range []string{"ko_nori_mixed", "ko_nori_discard"} {
		if got := strs(an.Tokenizer[tok]["user_dictionary_rules"]); !slices.Equal(got, analyzers.UserDictionary()) {
			t.Errorf("%s: user_dictionary_rules has %d entries, want the %d of analyzers.UserDictionary", tok, len(got), len(analyzers.UserDictionary()))
		}
	}
	if mode := an.Tokenizer["ko_nori_mixed"]["decompound_mode"]; mode != "mixed" {
		t.Errorf("index tokenizer decompound_mode = %v", mode)
	}
	if mode := an.Tokenizer["ko_nori_discard"]["decompound_mode"]; mode != "discard" {
		t.Errorf("search tokenizer decompound_mode = %v", mode)
	}
	if got := strs(an.Filter["ko_synonyms"]["synonyms"]); !slices.Equal(got, analyzers.Synonyms()) {
		t.Errorf("synonyms: %d rules, want %d", len(got), len(analyzers.Synonyms()))
	}
	if got := strs(an.Filter["ko_pos"]["stoptags"]); !slices.Equal(got, analyzers.StopTags()) {
		t.Errorf("stoptags = %v, want %v", got, analyzers.StopTags())
	}
	// Synonyms only on the search side, behind the discard tokenizer.
	for name, a := range an.Analyzer {
		if slices.Contains(a.Filter, "ko_synonyms") && a.Tokenizer != "ko_nori_discard" {
			t.Errorf("analyzer %s: synonym_graph behind %s; it only builds behind decompound_mode discard", name, a.Tokenizer)
		}
	}
	if search := an.Analyzer["ko_search"]; !slices.Contains(search.Filter, "ko_synonyms") {
		t.Errorf("ko_search filters %v lack ko_synonyms", search.Filter)
	}
	if idx := an.Analyzer["ko_index"]; idx.Tokenizer != "ko_nori_mixed" || !slices.Equal(idx.Filter, []string{"ko_pos", "nori_readingform", "lowercase"}) {
		t.Errorf("ko_index = %+v", idx)
	}
	// A sample of dictionary words appears literally in the rendered body.
	raw, _ := mappings.Index(mappings.Users, mappings.ProfileNori)
	for _, w := range []string{`"소아천식 소아 천식"`, `"흡입기"`, `"벤토린, 살부타몰, 알부테롤, ventolin, salbutamol, albuterol"`, `"JKS"`} {
		if !bytes.Contains(raw, []byte(w)) {
			t.Errorf("nori users body lacks %s", w)
		}
	}
}

func TestMainTextFieldsHaveSubfields(t *testing.T) {
	main := map[string]string{mappings.Contents: "title", mappings.Posts: "title", mappings.Users: "nickname"}
	for name, fieldName := range main {
		_, b := render(t, name, mappings.ProfileNori)
		f := b.Mappings.Properties[fieldName]
		if f.Analyzer != "ko_index" || f.SearchAnalyzer != "ko_search" {
			t.Errorf("%s.%s analyzers = %q/%q", name, fieldName, f.Analyzer, f.SearchAnalyzer)
		}
		want := map[string]field{
			"prefix": {Type: "text", Analyzer: "prefix_index", SearchAnalyzer: "standard"},
			"bigram": {Type: "text", Analyzer: "bigram"},
			"en":     {Type: "text", Analyzer: "en"},
			"exact":  {Type: "keyword", Normalizer: "lowercase_keyword"},
		}
		for sub, w := range want {
			got := f.Fields[sub]
			if got.Type != w.Type || got.Analyzer != w.Analyzer || got.SearchAnalyzer != w.SearchAnalyzer || got.Normalizer != w.Normalizer {
				t.Errorf("%s.%s.%s = %+v, want %+v", name, fieldName, sub, got, w)
			}
		}
	}
}

func TestIndexFields(t *testing.T) {
	want := map[string][]string{
		mappings.Contents: {"id", "title", "summary", "body", "category", "tags", "author_nickname", "published_at", "updated_at", "chosung", "qwerty", "suggest"},
		mappings.Posts:    {"id", "user_id", "author_nickname", "category", "title", "body", "excerpt", "like_count", "comment_count", "created_at", "updated_at", "chosung", "qwerty", "suggest"},
		mappings.Users:    {"id", "nickname", "bio", "created_at", "chosung", "qwerty", "suggest"},
	}
	for name, fields := range want {
		_, b := render(t, name, mappings.ProfileBasic)
		var got []string
		for f := range b.Mappings.Properties {
			got = append(got, f)
		}
		slices.Sort(got)
		slices.Sort(fields)
		if !slices.Equal(got, fields) {
			t.Errorf("%s fields = %v, want %v", name, got, fields)
		}
	}
}

func TestUsersHasOnlyPublicFields(t *testing.T) {
	for _, profile := range mappings.Profiles() {
		_, b := render(t, mappings.Users, profile)
		each(b.Mappings.Properties, "", func(path string, _ field) {
			for _, private := range []string{"email", "status", "identit", "password", "phone", "birth", "token"} {
				if strings.Contains(strings.ToLower(path), private) {
					t.Errorf("users/%s maps private field %q", profile, path)
				}
			}
		})
	}
}

// TestBasicProfileNeedsNoPlugins: a bare Elasticsearch (no analysis-nori, no
// analysis-common module) has the standard tokenizer and the lowercase filter
// and nothing else to build custom analyzers from — not even the whitespace
// or keyword tokenizers (checked against the 8.19.7 integ-test distribution).
func TestBasicProfileNeedsNoPlugins(t *testing.T) {
	for _, name := range mappings.Names() {
		raw, b := render(t, name, mappings.ProfileBasic)
		if bytes.Contains(raw, []byte("nori")) {
			t.Errorf("%s/basic mentions nori", name)
		}
		an := b.Settings.Index.Analysis
		if len(an.CharFilter)+len(an.Tokenizer)+len(an.Filter) > 0 {
			t.Errorf("%s/basic defines char filters, tokenizers or filters: %v %v %v", name, an.CharFilter, an.Tokenizer, an.Filter)
		}
		for n, a := range an.Analyzer {
			if a.Type != "custom" || a.Tokenizer != "standard" || len(a.CharFilter) > 0 || !slices.Equal(a.Filter, []string{"lowercase"}) {
				t.Errorf("%s/basic analyzer %s = %+v, want standard tokenizer + lowercase", name, n, a)
			}
		}
		for n, a := range an.Normalizer {
			if len(a.CharFilter) > 0 || !slices.Equal(a.Filter, []string{"lowercase"}) {
				t.Errorf("%s/basic normalizer %s = %+v", name, n, a)
			}
		}
	}
	settings, err := mappings.Settings(mappings.ProfileBasic)
	if err != nil {
		t.Fatal(err)
	}
	for _, commonOnly := range []string{"ngram", "synonym", `"type":"mapping"`, "whitespace", `"tokenizer":"keyword"`, "asciifolding", "shingle", "word_delimiter", "char_filter"} {
		if bytes.Contains(settings, []byte(commonOnly)) {
			t.Errorf("basic settings use %s, which lives in analysis-common", commonOnly)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, profile string
		want          error
	}{
		{"comments", mappings.ProfileNori, mappings.ErrUnknownIndex},
		{"", mappings.ProfileNori, mappings.ErrUnknownIndex},
		{"Contents", mappings.ProfileNori, mappings.ErrUnknownIndex},
		{"settings_nori", mappings.ProfileNori, mappings.ErrUnknownIndex},
		{mappings.Contents, "icu", mappings.ErrUnknownProfile},
		{mappings.Contents, "NORI", mappings.ErrUnknownProfile},
	}
	for _, tt := range tests {
		body, err := mappings.Index(tt.name, tt.profile)
		if !errors.Is(err, tt.want) || body != nil {
			t.Errorf("Index(%q, %q) = %d bytes, %v; want %v", tt.name, tt.profile, len(body), err, tt.want)
		}
	}
	if _, err := mappings.Mapping("nope"); !errors.Is(err, mappings.ErrUnknownIndex) {
		t.Errorf("Mapping(nope) error = %v", err)
	}
	if _, err := mappings.Settings("nope"); !errors.Is(err, mappings.ErrUnknownProfile) {
		t.Errorf("Settings(nope) error = %v", err)
	}
}

func TestSchemaVersion(t *testing.T) {
	for _, name := range mappings.Names() {
		v, err := mappings.SchemaVersion(name)
		if err != nil || v < 1 {
			t.Errorf("SchemaVersion(%q) = %d, %v", name, v, err)
		}
	}
	// posts gained the excerpt field in version 2: indices built before it
	// must be told apart from current ones.
	if v, _ := mappings.SchemaVersion(mappings.Posts); v < 2 {
		t.Errorf("posts schema_version = %d, want ≥ 2", v)
	}
	if _, err := mappings.SchemaVersion("nope"); !errors.Is(err, mappings.ErrUnknownIndex) {
		t.Errorf("SchemaVersion(nope) error = %v", err)
	}
}

func TestNames(t *testing.T) {
	if got := mappings.Names(); !slices.Equal(got, []string{"contents", "posts", "users"}) {
		t.Errorf("Names() = %v", got)
	}
	got := mappings.Names()
	got[0] = "mutated"
	if mappings.Names()[0] != "contents" {
		t.Error("Names() shares its slice")
	}
}

// IndexWith sets shards, replicas and the rules it is given; nothing given is
// the embedded rules, one shard and auto-expanded replicas (Index).
func TestIndexWithOptions(t *testing.T) {
	two, zero := 2, 0
	rules := analyzers.Rules{UserDictionary: []string{"숨케어"}, Synonyms: []string{"흡입기, inhaler"}, StopTags: []string{"E"}}
	tests := []struct {
		name                 string
		o                    mappings.Options
		shards               float64
		replicas, autoExpand any
		dict                 []any
	}{
		{"defaults", mappings.Options{}, 1, nil, "0-1", nil},
		{"three shards, two replicas", mappings.Options{Shards: 3, Replicas: &two}, 3, float64(2), nil, nil},
		{"no replicas", mappings.Options{Replicas: &zero}, 1, float64(0), nil, nil},
		{"rules", mappings.Options{Rules: &rules}, 1, nil, "0-1", []any{"숨케어"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := mappings.IndexWith(mappings.Posts, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				Settings struct {
					Index map[string]any `json:"index"`
				} `json:"settings"`
			}
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatal(err)
			}
			idx := body.Settings.Index
			if idx["number_of_shards"] != tt.shards || idx["number_of_replicas"] != tt.replicas || idx["auto_expand_replicas"] != tt.autoExpand {
				t.Errorf("shards %v replicas %v auto_expand %v", idx["number_of_shards"], idx["number_of_replicas"], idx["auto_expand_replicas"])
			}
			tok := idx["analysis"].(map[string]any)["tokenizer"].(map[string]any)
			for _, v := range tok {
				d, ok := v.(map[string]any)["user_dictionary_rules"].([]any)
				if !ok {
					continue
				}
				if tt.dict != nil && !reflect.DeepEqual(d, tt.dict) {
					t.Errorf("user dictionary %v, want %v", d, tt.dict)
				}
				if tt.dict == nil && len(d) != len(analyzers.UserDictionary()) {
					t.Errorf("user dictionary has %d entries, want the embedded %d", len(d), len(analyzers.UserDictionary()))
				}
			}
		})
	}
}

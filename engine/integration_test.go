package engine

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/internal/testenv"
)

// engines returns a client for each real engine of the test environment.
func engines(t *testing.T) map[string]*Client {
	t.Helper()
	out := map[string]*Client{}
	for kind, url := range map[string]func(testing.TB) string{
		config.EngineElasticsearch: testenv.ElasticsearchURL,
		config.EngineOpenSearch:    testenv.OpenSearchURL,
	} {
		if !testenv.Selected(kind) { // a matrix run (testenv.EnvEngines) tests one engine
			continue
		}
		c, err := New(config.Search{Engine: kind, Addresses: []string{url(t)}, RequestTimeout: 10 * time.Second, MaxRetries: 1})
		if err != nil {
			t.Fatal(err)
		}
		out[kind] = c
	}
	return out
}

func TestIntegrationClusterInfoOnBothEngines(t *testing.T) {
	for kind, c := range engines(t) {
		t.Run(kind, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			info, err := c.Info(ctx)
			if err != nil {
				t.Fatalf("Info: %v", err)
			}
			if info.Distribution != kind || info.Version == "" || info.ClusterName == "" {
				t.Errorf("info = %+v", info)
			}
			if err := c.Ping(ctx); err != nil {
				t.Errorf("Ping: %v", err)
			}
			plugins, err := c.Plugins(ctx)
			if err != nil {
				t.Fatalf("Plugins: %v", err)
			}
			if got := slices.Contains(plugins, "analysis-nori"); got != (kind == config.EngineOpenSearch) {
				t.Errorf("%s plugins %v: analysis-nori present = %v", kind, plugins, got)
			}
		})
	}
}

func TestIntegrationNoriSplitsParticlesAndCompounds(t *testing.T) {
	testenv.OpenSearchURL(t) // skips a matrix run without OpenSearch
	c := engines(t)[config.EngineOpenSearch]
	tests := []struct {
		text   string
		mode   string
		tokens []string
	}{
		{"소아천식은", "discard", []string{"소아", "천식", "은"}},
		{"천식이 밤에 심해져요", "discard", []string{"천식", "이", "밤", "에", "심하", "아", "지", "어", "요"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			body := `{"tokenizer":{"type":"nori_tokenizer","decompound_mode":"` + tt.mode + `"},"text":` + quote(tt.text) + `}`
			res, err := c.ES.Indices.Analyze(c.ES.Indices.Analyze.WithBody(strings.NewReader(body)),
				c.ES.Indices.Analyze.WithContext(context.Background()))
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if err := CheckStatus(res); err != nil {
				t.Fatal(err)
			}
			var out struct {
				Tokens []struct{ Token string } `json:"tokens"`
			}
			if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tok := range out.Tokens {
				got = append(got, tok.Token)
			}
			if !slices.Equal(got, tt.tokens) {
				t.Errorf("nori tokens of %q = %q, want %q", tt.text, got, tt.tokens)
			}
		})
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Users of this v8 client in front of Elasticsearch 9 may turn on REST
// compatibility (ELASTIC_CLIENT_APIVERSIONING=true: compatible-with=8 media
// types). Elasticsearch 8.x and 9.x (the matrix run, scripts/test.sh) both
// answer every kind of call the platform makes in that mode: index creation
// with a mapping, _bulk with external versions, refresh, _search, delete.
func TestIntegrationElasticsearchCompatibilityMode(t *testing.T) {
	url := testenv.ElasticsearchURL(t)
	for _, mode := range []string{"false", "true"} {
		t.Run("ELASTIC_CLIENT_APIVERSIONING="+mode, func(t *testing.T) {
			t.Setenv("ELASTIC_CLIENT_APIVERSIONING", mode)
			c, err := New(config.Search{Engine: config.EngineElasticsearch, Addresses: []string{url}, RequestTimeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			info, err := c.Info(ctx)
			if err != nil {
				t.Fatalf("Info: %v", err)
			}
			t.Logf("Elasticsearch %s", info.Version)
			index := "soomcare-compat-" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
			ok := func(res *esapi.Response, err error) *esapi.Response {
				t.Helper()
				if err == nil {
					err = CheckStatus(res)
				}
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			es := c.ES
			ok(es.Indices.Create(index, es.Indices.Create.WithContext(ctx),
				es.Indices.Create.WithBody(strings.NewReader(`{"mappings":{"dynamic":"strict","properties":{"title":{"type":"text"}}}}`)))).Body.Close()
			defer es.Indices.Delete([]string{index})
			bulk := `{"index":{"_index":"` + index + `","_id":"1","version":5,"version_type":"external_gte"}}
{"title":"천식 흡입기"}
`
			res := ok(es.Bulk(strings.NewReader(bulk), es.Bulk.WithContext(ctx), es.Bulk.WithRefresh("true")))
			var br struct{ Errors bool }
			json.NewDecoder(res.Body).Decode(&br)
			res.Body.Close()
			if br.Errors {
				t.Fatal("bulk item errors")
			}
			res = ok(es.Search(es.Search.WithContext(ctx), es.Search.WithIndex(index),
				es.Search.WithBody(strings.NewReader(`{"query":{"match":{"title":"천식"}},"version":true}`))))
			defer res.Body.Close()
			var out struct {
				Hits struct {
					Hits []struct {
						ID      string `json:"_id"`
						Version int64  `json:"_version"`
					} `json:"hits"`
				} `json:"hits"`
			}
			if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
				t.Fatal(err)
			}
			if len(out.Hits.Hits) != 1 || out.Hits.Hits[0].ID != "1" || out.Hits.Hits[0].Version != 5 {
				t.Errorf("hits = %+v, want document 1 at version 5", out.Hits.Hits)
			}
		})
	}
}

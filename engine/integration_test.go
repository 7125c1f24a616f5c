package engine

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/internal/testenv"
)

// engines returns a client for each real engine of the test environment.
func engines(t *testing.T) map[string]*Client {
	t.Helper()
	out := map[string]*Client{}
	for kind, url := range map[string]string{
		config.EngineElasticsearch: testenv.ElasticsearchURL(t),
		config.EngineOpenSearch:    testenv.OpenSearchURL(t),
	} {
		c, err := New(config.Search{Engine: kind, Addresses: []string{url}, RequestTimeout: 10 * time.Second, MaxRetries: 1})
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

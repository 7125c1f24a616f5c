package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testenv"
	"github.com/soomcare/soomcare/mappings"
)

// `soomcare analyze` on a live nori index: particles are dropped, compounds
// are kept whole and split (decompound mixed), and the search analyzer
// expands synonyms.
func TestIntegrationAnalyzeNori(t *testing.T) {
	osURL := testenv.OpenSearchURL(t)
	db, dsn := testdb.New(t)
	if _, err := db.Exec(`INSERT INTO users (id, nickname) VALUES (1, '편집자')`); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	prefix := "a" + hex.EncodeToString(b)
	es, err := engine.New(config.Search{Engine: config.EngineOpenSearch, Addresses: []string{osURL}, RequestTimeout: 30e9})
	if err != nil {
		t.Fatal(err)
	}
	life := indexer.NewLifecycle(es.ES, prefix)
	t.Cleanup(func() {
		all, _, _ := life.Physical(context.Background(), mappings.Contents)
		for _, idx := range all {
			life.Delete(context.Background(), idx)
		}
	})
	r := indexer.NewReindexer(db, es.ES, life, bulk.NewWriter(es.ES, bulk.Options{}, slog.Default()), slog.Default())
	if _, err := r.Run(context.Background(), mappings.Contents, indexer.ReindexOptions{Profile: mappings.ProfileNori}); err != nil {
		t.Fatal(err)
	}
	environ := []string{
		"SOOMCARE_MYSQL_DSN=" + dsn,
		"SOOMCARE_SEARCH_ENGINE=opensearch",
		"SOOMCARE_SEARCH_ADDRESSES=" + osURL,
		"SOOMCARE_SEARCH_INDEX_PREFIX=" + prefix,
	}
	tests := []struct {
		text     string
		analyzer string
		want     []string // tokens that must appear
		absent   []string // tokens that must not
	}{
		{"소아천식은", "ko_index", []string{"소아천식@0", "소아@0", "천식@1"}, []string{"은"}},
		{"천식이 밤에 심해져요", "ko_index", []string{"천식@0", "밤@2"}, []string{"이@1", "에@3"}},
		{"흡입기를", "ko_index", []string{"흡입기@0"}, []string{"를"}},
		{"흡입기", "ko_search", []string{"흡입기", "인헤일러", "inhaler"}, nil},
		{"벤토린", "ko_search", []string{"벤토린", "살부타몰", "salbutamol"}, nil},
		{"숨참", "ko_search", []string{"숨가쁨", "호흡", "곤란"}, nil}, // discard mode splits the synonym 호흡곤란
		{"FEV1", "en", []string{"fev1@0"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.analyzer+" "+tt.text, func(t *testing.T) {
			code, out, stderr := run(t, environ, "analyze", "--index", "contents", tt.text)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var line string
			for _, l := range strings.Split(out, "\n") {
				if f := strings.Fields(l); len(f) > 0 && f[0] == tt.analyzer {
					line = l
				}
			}
			if line == "" {
				t.Fatalf("no %s line in:\n%s", tt.analyzer, out)
			}
			toks := map[string]bool{}
			for _, tok := range strings.Split(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), tt.analyzer)), " | ") {
				tok = strings.TrimSpace(tok)
				toks[tok] = true
				if i := strings.LastIndex(tok, "@"); i > 0 {
					toks[tok[:i]] = true
				}
			}
			for _, w := range tt.want {
				if !toks[w] {
					t.Errorf("%s(%q) = %s; missing %q", tt.analyzer, tt.text, line, w)
				}
			}
			for _, a := range tt.absent {
				if toks[a] {
					t.Errorf("%s(%q) = %s; must not contain %q", tt.analyzer, tt.text, line, a)
				}
			}
		})
	}
	code, out, _ := run(t, environ, "analyze", "--index", "contents", "--field", "title", "소아천식")
	if code != ExitOK || !strings.Contains(out, "title (index)") || !strings.Contains(out, "title (search)") {
		t.Errorf("--field title: exit %d\n%s", code, out)
	}
	code, _, stderr := run(t, environ, "analyze", "--index", "contents", "--field", "nope", "천식")
	if code != ExitUsage || !strings.Contains(stderr, `no field "nope"`) {
		t.Errorf("unknown field: exit %d, %s", code, stderr)
	}
}

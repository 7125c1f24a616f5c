package bulk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/internal/testenv"
)

// bulkEngineClient connects to a real engine with the client's own retries off,
// so every retry is the writer's.
func bulkEngineClient(t testing.TB, kind, url string) *engine.Client {
	t.Helper()
	c, err := engine.New(config.Search{Engine: kind, Addresses: []string{url}, RequestTimeout: 30 * time.Second, MaxRetries: 0})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// bulkTempIndex creates a throwaway index with an integer field n and a
// keyword field title, deleted when the test ends.
func bulkTempIndex(t testing.TB, c *engine.Client) string {
	t.Helper()
	name := fmt.Sprintf("bulktest-%016x", rand.Uint64())
	const body = `{"settings":{"number_of_shards":1,"number_of_replicas":0},
		"mappings":{"properties":{"n":{"type":"integer"},"title":{"type":"keyword"}}}}`
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := c.ES.Indices.Create(name, c.ES.Indices.Create.WithContext(ctx), c.ES.Indices.Create.WithBody(strings.NewReader(body)))
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	defer res.Body.Close()
	if err := engine.CheckStatus(res); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := c.ES.Indices.Delete([]string{name}, c.ES.Indices.Delete.WithContext(ctx))
		if err != nil {
			t.Errorf("delete %s: %v", name, err)
			return
		}
		res.Body.Close()
	})
	return name
}

func bulkCount(t *testing.T, c *engine.Client, index string) int {
	t.Helper()
	ctx := t.Context()
	res, err := c.ES.Indices.Refresh(c.ES.Indices.Refresh.WithContext(ctx), c.ES.Indices.Refresh.WithIndex(index))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	res, err = c.ES.Count(c.ES.Count.WithContext(ctx), c.ES.Count.WithIndex(index))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := engine.CheckStatus(res); err != nil {
		t.Fatal(err)
	}
	var body struct{ Count int }
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.Count
}

// bulkGet returns a document's version and title; found is false on 404.
func bulkGet(t *testing.T, c *engine.Client, index, id string) (version int64, title string, found bool) {
	t.Helper()
	res, err := c.ES.Get(index, id, c.ES.Get.WithContext(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusNotFound {
		return 0, "", false
	}
	if err := engine.CheckStatus(res); err != nil {
		t.Fatal(err)
	}
	var body struct {
		Version int64 `json:"_version"`
		Found   bool  `json:"found"`
		Source  struct {
			Title string `json:"title"`
		} `json:"_source"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.Version, body.Source.Title, body.Found
}

func bulkDocs(index string, n int, version int64) []bulk.Op {
	ops := make([]bulk.Op, n)
	for i := range ops {
		ops[i] = bulk.Op{Action: bulk.ActionIndex, Index: index, ID: strconv.Itoa(i + 1), Version: version,
			Doc: json.RawMessage(fmt.Sprintf(`{"n":%d,"title":"천식 일지 %d"}`, i, i))}
	}
	return ops
}

func bulkWithVersion(ops []bulk.Op, v int64) []bulk.Op {
	out := slices.Clone(ops)
	for i := range out {
		out[i].Version = v
	}
	return out
}

func TestBulkIntegrationOnBothEngines(t *testing.T) {
	for _, kind := range []string{config.EngineOpenSearch, config.EngineElasticsearch} {
		t.Run(kind, func(t *testing.T) {
			var url string
			if kind == config.EngineElasticsearch {
				url = testenv.ElasticsearchURL(t)
			} else {
				url = testenv.OpenSearchURL(t)
			}
			c := bulkEngineClient(t, kind, url)
			w := bulk.NewWriter(c.ES, bulk.Options{MaxOps: 1000}, slog.New(slog.NewTextHandler(t.Output(), nil)))
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			write := func(t *testing.T, ops []bulk.Op) bulk.Result {
				t.Helper()
				res, err := w.Write(ctx, ops)
				if err != nil {
					t.Fatalf("Write: %v", err)
				}
				return res
			}

			t.Run("10k docs, replays and older versions", func(t *testing.T) {
				index := bulkTempIndex(t, c)
				const n = 10_000
				ops := bulkDocs(index, n, 10)
				start := time.Now()
				res := write(t, ops)
				t.Logf("%d docs in %v: %+v", n, time.Since(start), res.Indexed)
				if res.Indexed != n || res.Acknowledged() != n || len(res.Failed) != 0 {
					t.Fatalf("first write = %+v", res)
				}
				if got := bulkCount(t, c, index); got != n {
					t.Fatalf("count = %d, want %d", got, n)
				}

				// Same versions again (a CDC replay after a crash): external_gte
				// accepts an equal version, so the engine re-applies them as
				// "updated" — acknowledged, no failure, nothing changes.
				res = write(t, ops)
				if res.Acknowledged() != n || len(res.Failed) != 0 {
					t.Errorf("replay = %+v, want %d acknowledged, none failed", res, n)
				}
				if res.Indexed != n || res.Conflicts != 0 {
					t.Errorf("replay: indexed %d conflicts %d, want all re-applied (external_gte)", res.Indexed, res.Conflicts)
				}

				// Older versions (a reordered or stale event): all conflicts.
				res = write(t, bulkWithVersion(ops, 9))
				if res.Conflicts != n || res.Acknowledged() != n || len(res.Failed) != 0 {
					t.Errorf("older versions = %+v, want %d conflicts and no failures", res, n)
				}
				if got := bulkCount(t, c, index); got != n {
					t.Errorf("count after replays = %d, want %d", got, n)
				}
				if v, _, _ := bulkGet(t, c, index, "42"); v != 10 {
					t.Errorf("doc 42 version = %d, want 10", v)
				}
				if st := w.Stats(); st.Failed != 0 || st.Errors != 0 {
					t.Errorf("stats = %+v", st)
				}
			})

			t.Run("versions decide, deletes stick", func(t *testing.T) {
				index := bulkTempIndex(t, c)
				doc := func(title string) json.RawMessage { return json.RawMessage(`{"n":1,"title":"` + title + `"}`) }
				res := write(t, []bulk.Op{
					{Action: bulk.ActionIndex, Index: index, ID: "x", Version: 5, Doc: doc("new")},
				})
				if res.Indexed != 1 {
					t.Fatalf("index v5 = %+v", res)
				}
				res = write(t, []bulk.Op{{Action: bulk.ActionIndex, Index: index, ID: "x", Version: 3, Doc: doc("old")}})
				if res.Conflicts != 1 || len(res.Failed) != 0 {
					t.Errorf("index v3 after v5 = %+v, want one conflict", res)
				}
				if v, title, found := bulkGet(t, c, index, "x"); !found || v != 5 || title != "new" {
					t.Errorf("doc x = v%d %q found=%v, want v5 \"new\"", v, title, found)
				}

				res = write(t, []bulk.Op{{Action: bulk.ActionDelete, Index: index, ID: "x", Version: 6}})
				if res.Deleted != 1 || len(res.Failed) != 0 {
					t.Errorf("delete v6 = %+v", res)
				}
				if _, _, found := bulkGet(t, c, index, "x"); found {
					t.Error("doc x still there after delete v6")
				}
				// A stale index event after the delete must not resurrect it
				// (the engine keeps the delete's version for index.gc_deletes).
				res = write(t, []bulk.Op{{Action: bulk.ActionIndex, Index: index, ID: "x", Version: 4, Doc: doc("stale")}})
				if res.Conflicts != 1 {
					t.Errorf("index v4 after delete v6 = %+v, want one conflict", res)
				}
				if _, _, found := bulkGet(t, c, index, "x"); found {
					t.Error("a stale index event resurrected doc x")
				}
				res = write(t, []bulk.Op{{Action: bulk.ActionDelete, Index: index, ID: "never", Version: 7}})
				if res.NotFound != 1 || len(res.Failed) != 0 {
					t.Errorf("delete of a missing doc = %+v, want NotFound", res)
				}
			})

			t.Run("type mismatch lands in Failed", func(t *testing.T) {
				index := bulkTempIndex(t, c)
				ops := bulkDocs(index, 5, 1)
				ops[2].Doc = json.RawMessage(`{"n":"not-a-number","title":"bad"}`)
				res := write(t, ops)
				if res.Indexed != 4 || len(res.Failed) != 1 {
					t.Fatalf("result = %+v, want 4 indexed and 1 failed", res)
				}
				fe := res.Failed[0]
				if fe.Pos != 2 || fe.Op.ID != "3" || fe.Status != http.StatusBadRequest ||
					(fe.Type != "mapper_parsing_exception" && fe.Type != "document_parsing_exception") || fe.Reason == "" {
					t.Errorf("failed = %+v", fe)
				}
				t.Logf("%s reports: %s", kind, fe.Error())
				if got := bulkCount(t, c, index); got != 4 {
					t.Errorf("count = %d, want 4", got)
				}
			})
		})
	}
}

package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/auth"
	"github.com/soomcare/soomcare/care/caretest"
	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/dictionary"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testenv"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/searchapi"
	"github.com/soomcare/soomcare/web"
)

func randomPrefix(t *testing.T, p string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return p + hex.EncodeToString(b)
}

// deleteIndices removes every physical index under prefix when the test ends.
func deleteIndices(t *testing.T, es *engine.Client, prefix string) {
	t.Cleanup(func() {
		life := indexer.NewLifecycle(es.ES, prefix)
		for _, name := range mappings.Names() {
			all, _, _ := life.Physical(context.Background(), name)
			for _, idx := range all {
				life.Delete(context.Background(), idx)
			}
		}
	})
}

// contentHits searches the contents the way the app does and returns the
// ids found.
func contentHits(t *testing.T, h http.Handler, q string) []uint64 {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/contents/search?q="+url.QueryEscape(q), nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("search %q: %d %s", q, rec.Code, rec.Body)
	}
	var p searchapi.Page[searchapi.ContentHit]
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	ids := []uint64{}
	for _, h := range p.Hits {
		ids = append(ids, h.ID)
	}
	return ids
}

// The editors' loop on OpenSearch with nori: a synonym added through the
// editor API is live after `soomcare reindex all` (a query that found
// nothing finds the article) and gone after `soomcare reindex --rollback
// all`; the change is audited with the editor's id. `soomcare analyze
// --with-synonym` shows the change's tokens before it is saved.
func TestIntegrationSynonymLiveByReindexUndoneByRollback(t *testing.T) {
	sc := newCLIScratch(t, "d")
	db, es, prefix, environ := sc.db, sc.es, sc.prefix, sc.environ
	editor := web.Principal{UserID: caretest.NewUser(t, db, "편집자"), Role: web.RoleEditor}
	res, err := db.Exec(`INSERT INTO contents (author_id, title, body, summary, category, status, published_at)
		VALUES (?, '제습기 고르는 법', '습도를 낮추면 집먼지진드기가 줄어요.', '', '환경', 'published', NOW(6))`, editor.UserID)
	if err != nil {
		t.Fatal(err)
	}
	article, _ := res.LastInsertId()
	reindex := func(args ...string) string {
		t.Helper()
		code, out, stderr := run(t, environ, append([]string{"reindex", "--no-progress"}, args...)...)
		if code != ExitOK {
			t.Fatalf("reindex %v: exit %d\n%s%s", args, code, out, stderr)
		}
		return out
	}
	gin.SetMode(gin.ReleaseMode)
	search := gin.New()
	searchapi.New(es.ES, searchapi.Options{IndexPrefix: prefix, Timeout: 10 * time.Second}).Mount(search)
	const query, rule = "dehumidifier", "dehumidifier, 제습기"

	// every new index is warmed before its swap (the default --warm)
	if out := reindex("all"); strings.Count(out, "; warmed by ") != len(mappings.Names()) {
		t.Errorf("reindex all: want a warm-up for each index:\n%s", out)
	}
	if ids := contentHits(t, search, "제습기"); len(ids) != 1 || ids[0] != uint64(article) {
		t.Fatalf("the article is not found by its title word: %v", ids)
	}
	if ids := contentHits(t, search, query); len(ids) != 0 {
		t.Fatalf("%q finds %v before the synonym", query, ids)
	}

	// Before saving: analyze shows the synonym in ko_search with the change only.
	code, out, stderr := run(t, environ, "analyze", "--with-synonym", rule, query)
	if code != ExitOK {
		t.Fatalf("analyze --with-synonym: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "was built with these same rules") || strings.Contains(out, "(live index)") {
		t.Errorf("analyze --with-synonym before any change: the live index has MySQL's rules:\n%s", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "ko_search (MySQL now)") && strings.Contains(l, "제습기") ||
			strings.HasPrefix(l, "ko_search (with change)") && !strings.Contains(l, "제습기@0") {
			t.Errorf("analyze --with-synonym:\n%s", out)
		}
	}

	iss := caretest.Issuer(t)
	store := dictionary.NewStore(db, dictionary.NewEngine(es), dictionary.Options{})
	api := caretest.New(t, iss, auth.Use(iss), dictionary.NewAPI(store, nil).Mount)
	caretest.Expect(t, api.DoAs(t, editor, "POST", "/v1/editor/synonyms", map[string]string{"text": rule}), http.StatusCreated, "")
	if ids := contentHits(t, search, query); len(ids) != 0 {
		t.Fatalf("the synonym is live before reindex: %v", ids)
	}

	reindex("all")
	if ids := contentHits(t, search, query); len(ids) != 1 || ids[0] != uint64(article) {
		t.Fatalf("after reindex %q finds %v, want the article %d", query, ids, article)
	}

	reindex("--rollback", "all")
	if ids := contentHits(t, search, query); len(ids) != 0 {
		t.Fatalf("after --rollback %q still finds %v", query, ids)
	}

	// After the rollback the live index lacks the synonym MySQL has:
	// analyze says so and shows the live index's tokens apart.
	code, out, stderr = run(t, environ, "analyze", "--with-synonym", "zzqa, zzqb", query)
	if code != ExitOK {
		t.Fatalf("analyze after rollback: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "was built with different rules (0 dictionary entries and 1 synonym rule differ") {
		t.Errorf("analyze after rollback does not say the live index has other rules:\n%s", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "ko_search (live index)") && strings.Contains(l, "제습기") ||
			strings.HasPrefix(l, "ko_search (MySQL now)") && !strings.Contains(l, "제습기") {
			t.Errorf("analyze after rollback:\n%s", out)
		}
	}

	changes, err := store.Changes(t.Context(), "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].Kind != dictionary.Synonyms || changes[0].Action != "add" || changes[0].After == nil ||
		*changes[0].After != rule || changes[0].ActorUserID == nil || *changes[0].ActorUserID != editor.UserID {
		t.Fatalf("audit: %+v", changes)
	}
	code, out, _ = run(t, environ, "synonyms", "history")
	if code != ExitOK || !strings.Contains(out, "user:") || !strings.Contains(out, rule) {
		t.Errorf("synonyms history: exit %d\n%s", code, out)
	}
}

// `soomcare dict` and `soomcare synonyms`: changes are checked, saved,
// listed and recorded as the CLI operator; a refused one saves nothing.
func TestIntegrationDictCLI(t *testing.T) {
	osURL := testenv.OpenSearchURL(t)
	db, dsn := testdb.New(t)
	environ := []string{
		"SOOMCARE_MYSQL_DSN=" + dsn,
		"SOOMCARE_SEARCH_ENGINE=opensearch",
		"SOOMCARE_SEARCH_ADDRESSES=" + osURL,
		"USER=ops",
	}
	for _, c := range []struct {
		args []string
		code int
		out  string // in stdout (or stderr when the command fails)
	}{
		{[]string{"dict", "add", "숨길약"}, ExitOK, "added entry"},
		{[]string{"dict", "add", "--by", "alice", "숨길약"}, ExitFailure, `"숨길약"`},
		{[]string{"synonyms", "add", "--by", "alice", "숨길약, puffer"}, ExitOK, "reindex all"},
		{[]string{"synonyms", "add", "!!, zzq"}, ExitFailure, "검색 엔진"},
		{[]string{"dict", "edit", "0", "x"}, ExitUsage, "positive"},
		{[]string{"dict", "delete", "99999"}, ExitFailure, "no entry"},
		{[]string{"synonyms", "list"}, ExitOK, "숨길약, puffer"},
		{[]string{"dict", "history"}, ExitOK, "cli:ops"},
		{[]string{"synonyms", "history"}, ExitOK, "cli:alice"},
	} {
		code, out, stderr := run(t, environ, c.args...)
		if code != c.code || !strings.Contains(out+stderr, c.out) {
			t.Errorf("%v: exit %d (want %d)\n%s%s(want %q)", c.args, code, c.code, out, stderr, c.out)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM analysis_rule_changes WHERE actor_user_id IS NULL AND actor IN ('cli:ops', 'cli:alice')`).Scan(&n); err != nil || n != 2 {
		t.Errorf("audit rows of the CLI = %d, %v; want 2", n, err)
	}
}

// Elasticsearch here has neither analysis-nori nor analysis-common: a nori
// build is refused before any index exists (never a broken index), and the
// basic profile builds from MySQL as before.
func TestIntegrationReindexWithoutNoriBuildsNothingBroken(t *testing.T) {
	esURL := testenv.ElasticsearchURL(t)
	_, dsn := testdb.New(t)
	es, err := engine.New(config.Search{Engine: config.EngineElasticsearch, Addresses: []string{esURL}, RequestTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	prefix := randomPrefix(t, "d")
	deleteIndices(t, es, prefix)
	environ := []string{
		"SOOMCARE_MYSQL_DSN=" + dsn,
		"SOOMCARE_SEARCH_ENGINE=elasticsearch",
		"SOOMCARE_SEARCH_ADDRESSES=" + esURL,
		"SOOMCARE_SEARCH_INDEX_PREFIX=" + prefix,
	}
	code, _, stderr := run(t, append(environ, "SOOMCARE_SEARCH_ANALYSIS_PROFILE=nori"), "reindex", "--no-progress", "contents")
	if code == ExitOK || !strings.Contains(stderr, "analysis-nori") {
		t.Fatalf("nori reindex on Elasticsearch without the plugin: exit %d: %s", code, stderr)
	}
	life := indexer.NewLifecycle(es.ES, prefix)
	if all, _, _ := life.Physical(t.Context(), mappings.Contents); len(all) != 0 {
		t.Fatalf("indices built without nori: %v", all)
	}
	code, out, stderr := run(t, append(environ, "SOOMCARE_SEARCH_ANALYSIS_PROFILE=basic"), "reindex", "--no-progress", "contents")
	if code != ExitOK {
		t.Fatalf("basic reindex: exit %d: %s%s", code, out, stderr)
	}
}

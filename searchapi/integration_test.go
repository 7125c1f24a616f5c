package searchapi

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soomcare/soomcare/apidoc"
	"github.com/soomcare/soomcare/apidoc/apidoctest"
	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testenv"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/server"
)

// Integration tests: a fixture in MySQL, indices built by the indexer's
// reindex into a real engine under a random prefix, queries through the real
// router; every response validated against the OpenAPI document.

// fixture rows. Users: 1, 4, 5 searchable; 2 blocked, 3 deleted, 6 soft-deleted.
func searchFixture(t *testing.T, db *sql.DB) {
	t.Helper()
	stmts := []string{
		`INSERT INTO users (id, email, nickname, bio, role, status, deleted_at) VALUES
		 (1, 'a@example.test', '숨쉬는고래', '소아천식 아이를 키워요', 'user', 'active', NULL),
		 (2, 'b@example.test', '차단된천식맘', '천식 십년차', 'user', 'blocked', NULL),
		 (3, 'c@example.test', '탈퇴한천식러', '천식', 'user', 'deleted', NOW()),
		 (4, 'd@example.test', '편집자', '호흡기 내과 간호사', 'editor', 'active', NULL),
		 (5, 'e@example.test', '천식극복', 'FEV1 관리 중', 'user', 'active', NULL),
		 (6, 'f@example.test', '지운계정천식', '천식', 'user', 'active', NOW())`,
		`INSERT INTO contents (id, author_id, title, body, summary, category, tags, status, published_at) VALUES
		 (1, 4, '천식 흡입기 사용법', '흡입기를 쓰기 전에 숨을 충분히 내쉬세요.', '흡입기 바르게 쓰기', '약물', '["흡입기","사용법"]', 'published', '2024-03-01 03:00:00'),
		 (2, 4, '벤토린 올바르게 쓰기', '벤토린은 증상이 있을 때 쓰는 완화제입니다.', '완화제 사용 안내', '약물', '["벤토린","완화제"]', 'published', '2024-03-10 03:00:00'),
		 (3, 4, '소아천식, 부모가 알아야 할 것', '아이의 밤 기침을 잘 살펴야 합니다.', '우리 아이 호흡 관리', '소아천식', '["어린이"]', 'published', '2024-04-01 03:00:00'),
		 (4, 4, '폐기능검사 결과지 읽기', '1초간 강제호기량(FEV1)은 기도가 좁아진 정도를 보여 줍니다.', '검사 결과 해석', '검사', '["검사"]', 'published', '2024-05-01 03:00:00'),
		 (5, 4, '복합제를 매일 써야 하는 이유', 'ICS/LABA 복합제는 한 번의 흡입으로 두 가지 약을 씁니다.', '조절제 이야기', '약물', '["조절제"]', 'published', '2024-06-01 03:00:00'),
		 (6, 4, '미세먼지 나쁨인 날 행동 요령', '외출을 줄이고 마스크를 쓰세요.', '대기질 확인', '환경', '["미세먼지"]', 'published', '2024-07-01 03:00:00'),
		 (7, 4, '천식 초안', '아직 쓰는 중', '', '약물', '[]', 'draft', NULL)`,
		`INSERT INTO posts (id, user_id, category, title, body, status, like_count, created_at, deleted_at) VALUES
		 (101, 1, '질문', '아이의 천식이 밤에 심해져요', '밤마다 기침을 해서 잠을 못 자요. <script>alert(1)</script>', 'visible', 9, '2024-05-01 00:00:00', NULL),
		 (102, 5, '정보', '흡입기 세척은 어떻게 하나요', '인헤일러 입구를 닦는 법', 'visible', 2, '2024-05-02 00:00:00', NULL),
		 (103, 2, '자유', '차단된 사람의 천식 글', '보이면 안 됨', 'visible', 50, '2024-05-03 00:00:00', NULL),
		 (104, 3, '자유', '탈퇴한 사람의 천식 글', '보이면 안 됨', 'visible', 50, '2024-05-03 00:00:00', NULL),
		 (105, 6, '자유', '지운 계정의 천식 글', '보이면 안 됨', 'visible', 50, '2024-05-03 00:00:00', NULL),
		 (106, 1, '자유', '숨긴 천식 글', '신고로 숨김', 'hidden', 50, '2024-05-03 00:00:00', NULL),
		 (107, 1, '자유', '지운 천식 글', '삭제', 'visible', 50, '2024-05-03 00:00:00', NOW())`,
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	// 45 diary posts: equal texts (equal scores), created_at in groups of three
	// and like counts in groups, so every order needs its id tiebreaker.
	for i := range 45 {
		created := time.Date(2024, 1, 1, i/3, 0, 0, 0, time.UTC)
		if _, err := db.Exec(`INSERT INTO posts (id, user_id, category, title, body, like_count, created_at) VALUES (?, 1, ?, ?, '오늘도 천식 때문에 기침을 했어요', ?, ?)`,
			200+i, []string{"자유", "질문"}[i%2], fmt.Sprintf("천식 일기 %d", i%5), i%4, created); err != nil {
			t.Fatal(err)
		}
	}
}

type searchEnv struct {
	kind, profile string
	h             http.Handler
	v             *apidoctest.Validator
}

// buildIndices reindexes the fixture into each engine and returns routers over them.
func buildIndices(t *testing.T) []searchEnv {
	t.Helper()
	db, _ := testdb.New(t)
	searchFixture(t, db)
	return buildEnvs(t, db)
}

// buildEnvs reindexes db into each engine under test: both, or the one a
// matrix run selects (testenv.EnvEngines).
func buildEnvs(t *testing.T, db *sql.DB) []searchEnv {
	t.Helper()
	var out []searchEnv
	if testenv.Selected(config.EngineOpenSearch) {
		out = append(out, buildEnv(t, db, config.EngineOpenSearch, testenv.OpenSearchURL(t), mappings.ProfileNori))
	}
	if testenv.Selected(config.EngineElasticsearch) {
		out = append(out, buildEnv(t, db, config.EngineElasticsearch, testenv.ElasticsearchURL(t), mappings.ProfileBasic))
	}
	return out
}

// envOf returns the env of engine kind; a subtest given a missing one skips
// (a matrix run tests one engine).
func envOf(envs []searchEnv, kind string) func(t *testing.T) searchEnv {
	return func(t *testing.T) searchEnv {
		for _, s := range envs {
			if s.kind == kind {
				return s
			}
		}
		t.Skipf("engine matrix run without %s", kind)
		return searchEnv{}
	}
}

// buildEnv reindexes db into one engine under a random prefix (dropped at
// the end) and returns the real router over those aliases.
func buildEnv(t *testing.T, db *sql.DB, kind, addr, profile string) searchEnv {
	t.Helper()
	c, err := engine.New(config.Search{Engine: kind, Addresses: []string{addr}, RequestTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	prefix := "t" + hex.EncodeToString(b)
	life := indexer.NewLifecycle(c.ES, prefix)
	t.Cleanup(func() {
		for _, n := range mappings.Names() {
			all, _, _ := life.Physical(context.Background(), n)
			for _, idx := range all {
				life.Delete(context.Background(), idx)
			}
		}
	})
	r := indexer.NewReindexer(db, c.ES, life, bulk.NewWriter(c.ES, bulk.Options{}, slog.Default()), slog.Default())
	for _, n := range mappings.Names() {
		if _, err := r.Run(context.Background(), n, indexer.ReindexOptions{Profile: profile}); err != nil {
			t.Fatalf("%s: reindex %s: %v", kind, n, err)
		}
		settle(t, c, life.Alias(n))
	}
	api := New(c.ES, Options{IndexPrefix: prefix, Timeout: 5 * time.Second, Logger: slog.Default()})
	srv := server.New(config.HTTP{MaxBodyBytes: 1 << 20}, slog.Default(), nil, api.Mount, apidoc.Mount)
	return searchEnv{kind: kind, profile: profile, h: srv.Handler(), v: apidoctest.New(t)}
}

func (s searchEnv) get(t *testing.T, path string, params url.Values, into any) int {
	t.Helper()
	rec := get(t, s.v, s.h, path+"?"+params.Encode())
	if rec.Code == http.StatusOK && into != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), into); err != nil {
			t.Fatal(err)
		}
	}
	if rec.Code != http.StatusOK {
		t.Logf("%s?%s → %d %s", path, params.Encode(), rec.Code, rec.Body)
	}
	return rec.Code
}

func (s searchEnv) contents(t *testing.T, q string, extra ...string) []string {
	t.Helper()
	var page Page[ContentHit]
	s.get(t, "/v1/contents/search", query(q, extra...), &page)
	var titles []string
	for _, h := range page.Hits {
		titles = append(titles, h.Title)
	}
	return titles
}

func (s searchEnv) posts(t *testing.T, q string, extra ...string) []string {
	t.Helper()
	var page Page[PostHit]
	s.get(t, "/v1/posts/search", query(q, extra...), &page)
	var titles []string
	for _, h := range page.Hits {
		titles = append(titles, h.Title)
	}
	return titles
}

func (s searchEnv) suggest(t *testing.T, q string) []string {
	t.Helper()
	var out SuggestResponse
	s.get(t, "/v1/search/suggest", url.Values{"q": {q}, "size": {"20"}}, &out)
	var texts []string
	for _, x := range out.Suggestions {
		texts = append(texts, x.Type+":"+x.Text)
	}
	return texts
}

func query(q string, extra ...string) url.Values {
	v := url.Values{"q": {q}, "size": {"50"}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

func TestIntegrationSearch(t *testing.T) {
	envs := buildIndices(t)
	nori, basic := envOf(envs, config.EngineOpenSearch), envOf(envs, config.EngineElasticsearch)

	t.Run("korean analysis on nori", func(t *testing.T) {
		s := nori(t)
		contains := func(name string, got []string, want ...string) {
			t.Helper()
			for _, w := range want {
				if !slices.Contains(got, w) {
					t.Errorf("%s: %v lacks %q", name, got, w)
				}
			}
		}
		// Particles: 천식이 → 천식.
		contains("posts 천식이", s.posts(t, "천식이"), "아이의 천식이 밤에 심해져요", "천식 일기 0")
		contains("contents 천식이", s.contents(t, "천식이"), "천식 흡입기 사용법")
		// Compounds: 소아천식 is found by its parts and finds them.
		contains("contents 천식 (compound 소아천식 in the title)", s.contents(t, "천식"), "소아천식, 부모가 알아야 할 것")
		contains("contents 소아천식", s.contents(t, "소아천식"), "소아천식, 부모가 알아야 할 것")
		if got := s.contents(t, "소아천식"); len(got) == 0 || got[0] != "소아천식, 부모가 알아야 할 것" {
			t.Errorf("소아천식 ranks %v", got)
		}
		// Synonyms (search-side synonym_graph).
		contains("contents 인헤일러", s.contents(t, "인헤일러"), "천식 흡입기 사용법")
		contains("posts 인헤일러 (흡입기 title)", s.posts(t, "인헤일러"), "흡입기 세척은 어떻게 하나요")
		contains("contents 살부타몰", s.contents(t, "살부타몰"), "벤토린 올바르게 쓰기")
		// Prefixes.
		contains("contents 흡입", s.contents(t, "흡입"), "천식 흡입기 사용법")
		contains("posts 흡입", s.posts(t, "흡입"), "흡입기 세척은 어떻게 하나요")
		// English terms.
		contains("contents FEV1", s.contents(t, "FEV1"), "폐기능검사 결과지 읽기")
		contains("contents fev1", s.contents(t, "fev1"), "폐기능검사 결과지 읽기")
		contains("contents ICS/LABA", s.contents(t, "ICS/LABA"), "복합제를 매일 써야 하는 이유")
		// 초성 and English-keyboard in the full search too.
		contains("contents ㅊㅅ", s.contents(t, "ㅊㅅ"), "천식 흡입기 사용법")
		contains("contents cjstlr", s.contents(t, "cjstlr"), "천식 흡입기 사용법")
		// Nothing unrelated, no drafts.
		got := s.contents(t, "천식")
		if slices.Contains(got, "미세먼지 나쁨인 날 행동 요령") || slices.Contains(got, "천식 초안") {
			t.Errorf("contents 천식 = %v: unrelated or draft", got)
		}
		// Filters.
		if got := s.contents(t, "흡입기", "category", "검사"); len(got) != 0 {
			t.Errorf("category filter: %v", got)
		}
		if got := s.contents(t, "쓰기", "from", "2024-03-05", "to", "2024-03-31"); !slices.Equal(got, []string{"벤토린 올바르게 쓰기"}) {
			t.Errorf("date filter: %v", got)
		}
		if got := s.contents(t, "쓰기", "tags", "벤토린,완화제"); !slices.Equal(got, []string{"벤토린 올바르게 쓰기"}) {
			t.Errorf("tags filter: %v", got)
		}
		if got := s.contents(t, "천식", "sort", "recent"); len(got) < 2 || got[0] != "소아천식, 부모가 알아야 할 것" {
			t.Errorf("recent: %v", got)
		}
		// Highlights are escaped HTML with <em>.
		var page Page[PostHit]
		s.get(t, "/v1/posts/search", query("기침"), &page)
		var found bool
		for _, h := range page.Hits {
			if h.ID == 101 {
				found = true
				body := strings.Join(h.Highlight["body"], " ")
				if !strings.Contains(body, "<em>기침</em>") || strings.Contains(body, "<script>") {
					t.Errorf("highlight of 101 = %q", body)
				}
			}
		}
		if !found {
			t.Error("기침 does not find post 101")
		}
		// Contents bodies are highlighted without being sent whole.
		var cp Page[ContentHit]
		s.get(t, "/v1/contents/search", query("내쉬세요"), &cp)
		if len(cp.Hits) != 1 || !strings.Contains(strings.Join(cp.Hits[0].Highlight["body"], ""), "<em>") {
			t.Errorf("contents 내쉬세요: %+v", cp.Hits)
		}
	})

	t.Run("suggestions on nori", func(t *testing.T) {
		s := nori(t)
		for _, q := range []string{"ㅊㅅ", "cjstlr", "cjstl", "천", "천시", "천식 흡"} {
			if got := s.suggest(t, q); !slices.Contains(got, "contents:천식 흡입기 사용법") {
				t.Errorf("suggest %q = %v, want contents:천식 흡입기 사용법", q, got)
			}
		}
		if got := s.suggest(t, "흡입"); !slices.Contains(got, "contents:천식 흡입기 사용법") || !slices.Contains(got, "posts:흡입기 세척은 어떻게 하나요") {
			t.Errorf("suggest 흡입 (a word inside the title) = %v", got)
		}
		if got := s.suggest(t, "ㅅㅅㄴ"); !slices.Contains(got, "users:숨쉬는고래") {
			t.Errorf("suggest ㅅㅅㄴ = %v, want the user 숨쉬는고래", got)
		}
		for _, q := range []string{"차단", "탈퇴", "지운", "ㅊㄷ"} {
			for _, s := range s.suggest(t, q) {
				if strings.Contains(s, "차단") || strings.Contains(s, "탈퇴") || strings.Contains(s, "지운") || strings.Contains(s, "숨긴") || strings.Contains(s, "초안") {
					t.Errorf("suggest %q offers %q", q, s)
				}
			}
		}
	})

	// The basic profile has the same field and analyzer names, without Korean
	// morphology: whole words, prefixes through completion, filters, highlights.
	t.Run("smoke on basic", func(t *testing.T) {
		s := basic(t)
		if got := s.contents(t, "천식"); !slices.Contains(got, "천식 흡입기 사용법") {
			t.Errorf("contents 천식 = %v", got)
		}
		if got := s.contents(t, "FEV1"); !slices.Equal(got, []string{"폐기능검사 결과지 읽기"}) {
			t.Errorf("contents FEV1 = %v", got)
		}
		if got := s.contents(t, "쓰기", "category", "약물", "from", "2024-03-05"); !slices.Equal(got, []string{"벤토린 올바르게 쓰기"}) {
			t.Errorf("filters = %v", got)
		}
		for _, q := range []string{"천식", "ㅊㅅ", "cjstlr"} {
			if got := s.suggest(t, q); !slices.Contains(got, "contents:천식 흡입기 사용법") {
				t.Errorf("suggest %q = %v", q, got)
			}
		}
		var page Page[PostHit]
		s.get(t, "/v1/posts/search", query("기침을"), &page)
		if len(page.Hits) == 0 || !strings.Contains(strings.Join(page.Hits[0].Highlight["body"], ""), "<em>기침을</em>") {
			t.Errorf("posts 기침을: %+v", page.Hits)
		}
	})

	for _, s := range envs {
		t.Run("pagination on "+s.kind, func(t *testing.T) {
			q := "천식"
			if s.profile == mappings.ProfileBasic {
				q = "오늘도" // the standard tokenizer keeps 천식이/천식을 whole; the diaries share this word
			}
			for _, sort := range []string{SortRelevance, SortRecent} {
				paginate(t, s, "/v1/posts/search", url.Values{"q": {q}, "sort": {sort}}, "hits")
			}
			for _, sort := range []string{SortRecent, SortPopular} {
				paginate(t, s, "/v1/feed/posts", url.Values{"sort": {sort}}, "posts")
				paginate(t, s, "/v1/feed/posts", url.Values{"sort": {sort}, "category": {"질문"}}, "posts")
			}
		})

		t.Run("privacy on "+s.kind, func(t *testing.T) {
			hidden := []string{"차단된 사람의 천식 글", "탈퇴한 사람의 천식 글", "지운 계정의 천식 글", "숨긴 천식 글", "지운 천식 글"}
			for _, q := range []string{"천식", "글", "보이면", "차단된", "탈퇴한"} {
				for _, title := range s.posts(t, q) {
					if slices.Contains(hidden, title) {
						t.Errorf("posts %q shows %q", q, title)
					}
				}
			}
			var feed FeedResponse
			s.get(t, "/v1/feed/posts", url.Values{"sort": {"popular"}, "size": {"50"}}, &feed)
			if len(feed.Posts) != 47 {
				t.Errorf("feed has %d posts, want the 47 visible ones", len(feed.Posts))
			}
			for _, p := range feed.Posts {
				if slices.Contains(hidden, p.Title) {
					t.Errorf("feed shows %q", p.Title)
				}
			}
			for _, q := range []string{"천식", "차단된천식맘", "탈퇴한천식러", "지운계정천식", "천식극복", "숨쉬는고래"} {
				rec := get(t, s.v, s.h, "/v1/users/search?"+url.Values{"q": {q}}.Encode())
				var raw struct {
					Hits []map[string]json.RawMessage `json:"hits"`
				}
				json.Unmarshal(rec.Body.Bytes(), &raw)
				for _, u := range raw.Hits {
					for k := range u {
						if !slices.Contains([]string{"id", "nickname", "bio", "highlight"}, k) {
							t.Errorf("users %q: field %q in %s", q, k, rec.Body)
						}
					}
					var id int
					json.Unmarshal(u["id"], &id)
					if id == 2 || id == 3 || id == 6 {
						t.Errorf("users %q finds blocked or deleted user %d", q, id)
					}
				}
				if strings.Contains(rec.Body.String(), "example.test") {
					t.Errorf("users %q leaks an email: %s", q, rec.Body)
				}
			}
			var users Page[UserHit]
			s.get(t, "/v1/users/search", url.Values{"q": {"천식극복"}}, &users)
			if len(users.Hits) == 0 || users.Hits[0].ID != 5 {
				t.Errorf("users 천식극복 = %+v", users.Hits)
			}
		})

		t.Run("combined search on "+s.kind, func(t *testing.T) {
			var out MultiResponse
			if code := s.get(t, "/v1/search", url.Values{"q": {"천식"}}, &out); code != 200 {
				t.Fatalf("status %d", code)
			}
			sec := out.Sections
			if sec.Contents == nil || sec.Posts == nil || sec.Users == nil || len(sec.Contents.Hits) == 0 || len(sec.Posts.Hits) != DefaultSectionSize || sec.Posts.NextCursor == "" {
				t.Fatalf("sections = %+v", sec)
			}
			// The posts section continues on /v1/posts/search.
			var next Page[PostHit]
			if code := s.get(t, "/v1/posts/search", url.Values{"q": {"천식"}, "cursor": {sec.Posts.NextCursor}}, &next); code != 200 || len(next.Hits) == 0 {
				t.Errorf("section cursor: %d, %d hits", code, len(next.Hits))
			}
			for _, h := range next.Hits {
				for _, first := range sec.Posts.Hits {
					if h.ID == first.ID {
						t.Errorf("post %d on both pages", h.ID)
					}
				}
			}
		})

		// Worst cases for the query's size: the engine must accept every one
		// (OpenSearch allows 1024 clauses).
		t.Run("hostile queries on "+s.kind, func(t *testing.T) {
			qs := []string{
				strings.TrimSpace(strings.Repeat("a ", MaxQueryRunes/2)),
				strings.Repeat("천", MaxQueryRunes),
				strings.TrimSpace(strings.Repeat("천식 ", MaxQueryRunes/3)),
				strings.TrimSpace(strings.Repeat("ㅊ ", MaxQueryRunes/2)),
				strings.TrimSpace(strings.Repeat("cjstlr ", MaxQueryRunes/7)),
				strings.TrimSpace(strings.Repeat("인헤일러 ", MaxQueryRunes/5)),
				strings.TrimSpace(strings.Repeat("ICS/LABA ", MaxQueryRunes/9)),
				strings.TrimSpace(strings.Repeat("숨가쁨 ", MaxQueryRunes/4)),
				"a1 " + strings.Repeat("x", MaxQueryRunes-3),
				"!!! ??? ...", `"`, `\`, "*", "~", "(", "[", "/", "<em>", "🌸", "ᄀ", "\u0301",
			}
			for _, q := range qs {
				for _, path := range fuzzEndpoints[:5] {
					if code := s.get(t, path, url.Values{"q": {q}}, nil); code != 200 {
						t.Errorf("%s q=%q → %d", path, q, code)
					}
				}
			}
		})
	}

	t.Run("missing indices answer 503 on "+config.EngineElasticsearch, func(t *testing.T) {
		basic := basic(t)
		c, err := engine.New(config.Search{Engine: basic.kind, Addresses: []string{testenv.ElasticsearchURL(t)}, RequestTimeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		api := New(c.ES, Options{IndexPrefix: "nothing-here-" + hex.EncodeToString([]byte{1, 2, 3}), Timeout: 5 * time.Second})
		h := server.New(config.HTTP{MaxBodyBytes: 1 << 20}, slog.New(slog.DiscardHandler), nil, api.Mount).Handler()
		for _, path := range []string{"/v1/search?q=a", "/v1/posts/search?q=a", "/v1/search/suggest?q=a", "/v1/feed/posts"} {
			rec := get(t, basic.v, h, path)
			if code, _ := envelope(t, rec); rec.Code != 503 || code != "unavailable" {
				t.Errorf("%s → %d %s", path, rec.Code, code)
			}
		}
	})
}

// paginate walks every page of a listing with a small size and compares the
// ids with one page holding everything: no duplicate, no gap, same order.
func paginate(t *testing.T, s searchEnv, path string, params url.Values, field string) {
	t.Helper()
	ids := func(body map[string]json.RawMessage) []uint64 {
		var hits []struct {
			ID uint64 `json:"id"`
		}
		json.Unmarshal(body[field], &hits)
		var out []uint64
		for _, h := range hits {
			out = append(out, h.ID)
		}
		return out
	}
	all := url.Values{}
	for k, v := range params {
		all[k] = v
	}
	all.Set("size", "50")
	var whole map[string]json.RawMessage
	if code := s.get(t, path, all, &whole); code != 200 {
		t.Fatalf("%s %v: %d", path, all, code)
	}
	want := ids(whole)
	if _, more := whole["next_cursor"]; more || len(want) < 16 {
		t.Fatalf("%s %v: the whole listing is %d ids (more: %v); the fixture needs 16..50", path, all, len(want), more)
	}
	var got []uint64
	cursor := ""
	pages := 0
	for {
		p := url.Values{}
		for k, v := range params {
			p[k] = v
		}
		p.Set("size", "7")
		if cursor != "" {
			p.Set("cursor", cursor)
		}
		var page map[string]json.RawMessage
		if code := s.get(t, path, p, &page); code != 200 {
			t.Fatalf("%s page %d: %d", path, pages+1, code)
		}
		pages++
		got = append(got, ids(page)...)
		cursor = ""
		json.Unmarshal(page["next_cursor"], &cursor)
		if cursor == "" || pages > 20 {
			break
		}
	}
	if pages < 3 {
		t.Errorf("%s %v: only %d pages", path, params, pages)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s %v: %d pages gave\n%v\nwant (one page)\n%v", path, params, pages, got, want)
	}
	seen := map[uint64]bool{}
	for _, id := range got {
		if seen[id] {
			t.Errorf("%s %v: id %d twice", path, params, id)
		}
		seen[id] = true
	}
}

// settle merges an index to one segment, so no background merge can change
// relevance statistics between two pages of a test (cursor pages are exact
// only while the index does not change; see docs/limits.md).
func settle(t *testing.T, c *engine.Client, index string) {
	t.Helper()
	res, err := c.ES.Indices.Forcemerge(c.ES.Indices.Forcemerge.WithIndex(index), c.ES.Indices.Forcemerge.WithMaxNumSegments(1))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := engine.CheckStatus(res); err != nil {
		t.Fatal(err)
	}
	res2, err := c.ES.Indices.Refresh(c.ES.Indices.Refresh.WithIndex(index))
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
}

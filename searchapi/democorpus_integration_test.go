package searchapi

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testenv"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/seed"
)

// The demo corpus (package seed, small sizes) through MySQL, reindexed into
// OpenSearch with nori: the Korean cases on text nobody wrote for this test,
// pagination against the engine's own total, and privacy after blocking the
// two most active authors.
func TestIntegrationDemoCorpus(t *testing.T) {
	db, _ := testdb.New(t)
	ctx := context.Background()
	corpus := seed.Generate(7, seed.Sizes{Users: 40, Contents: 60, Posts: 160, MaxCommentsPerPost: 1, MaxLikesPerPost: 6}, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	if _, err := seed.Load(ctx, db, corpus, seed.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE users SET status = 'blocked' WHERE id IN (SELECT user_id FROM (
		SELECT user_id FROM posts WHERE status = 'visible' AND deleted_at IS NULL GROUP BY user_id ORDER BY COUNT(*) DESC, user_id LIMIT 2) top)`); err != nil {
		t.Fatal(err)
	}
	var blocked []uint64
	rows, err := db.Query(`SELECT id FROM users WHERE status <> 'active' OR deleted_at IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id uint64
		rows.Scan(&id)
		blocked = append(blocked, id)
	}
	rows.Close()
	var searchable int
	if err := db.QueryRow(`SELECT COUNT(*) FROM posts p JOIN users u ON u.id = p.user_id
		WHERE p.status = 'visible' AND p.deleted_at IS NULL AND u.status = 'active' AND u.deleted_at IS NULL`).Scan(&searchable); err != nil {
		t.Fatal(err)
	}
	s := buildEnv(t, db, config.EngineOpenSearch, testenv.OpenSearchURL(t), mappings.ProfileNori)

	// Titles and highlights of a contents search, as one string per hit.
	texts := func(q string) []string {
		var page Page[ContentHit]
		s.get(t, "/v1/contents/search", query(q), &page)
		var out []string
		for _, h := range page.Hits {
			body := strings.NewReplacer("<em>", "", "</em>", "").Replace(strings.Join(h.Highlight["body"], " "))
			out = append(out, h.Title+" | "+h.Summary+" | "+body)
		}
		return out
	}
	some := func(name string, hits []string, want string) {
		t.Helper()
		if !slices.ContainsFunc(hits, func(h string) bool { return strings.Contains(h, want) }) {
			t.Errorf("%s: no hit mentions %q in %d hits %q", name, want, len(hits), hits)
		}
	}
	some("천식이", texts("천식이"), "천식")
	some("소아천식", texts("소아천식"), "소아천식")
	some("인헤일러 (synonym of 흡입기)", texts("인헤일러"), "흡입기")
	some("살부타몰 (synonym of 벤토린)", texts("살부타몰"), "벤토린")
	some("흡입 (prefix)", texts("흡입"), "흡입기")
	some("FEV1", texts("FEV1"), "FEV1")
	for _, q := range []string{"ㅊㅅ", "cjstlr"} {
		got := s.suggest(t, q)
		some("suggest "+q, got, "천식")
	}
	// Every post on the first page for FEV1 is about FEV1 (nori cuts it into
	// fev + 1; titles like "천식 1년 차" must not crowd them out), and its
	// excerpt is the start of the body, at most ExcerptRunes runes and "…".
	var fev Page[PostHit]
	s.get(t, "/v1/posts/search", url.Values{"q": {"fev1"}, "size": {"10"}}, &fev)
	if len(fev.Hits) == 0 {
		t.Error("posts fev1: nothing")
	}
	for _, h := range fev.Hits {
		text := strings.NewReplacer("<em>", "", "</em>", "").Replace(h.Title + " " + strings.Join(h.Highlight["body"], " "))
		if !strings.Contains(text, "FEV1") {
			t.Errorf("posts fev1: hit %d %q does not mention FEV1 (highlight %q)", h.ID, h.Title, h.Highlight)
		}
		if h.Excerpt == "" || utf8.RuneCountInString(h.Excerpt) > indexer.ExcerptRunes+1 || strings.ContainsAny(h.Excerpt, "\n\t") {
			t.Errorf("posts fev1: hit %d excerpt %q", h.ID, h.Excerpt)
		}
	}
	if got := s.posts(t, "천식이"); len(got) == 0 {
		t.Error("posts 천식이: nothing")
	}

	// Cursor pagination over a relevance listing larger than one page: every
	// page distinct, together exactly the engine's total.
	var first Page[PostHit]
	s.get(t, "/v1/posts/search", url.Values{"q": {"천식"}, "size": {"10"}}, &first)
	if first.Total == nil || first.Total.Relation != "eq" || first.Total.Value < 25 {
		t.Fatalf("posts 천식 total = %+v: the corpus needs more matching posts", first.Total)
	}
	seen := map[uint64]bool{}
	pages, cursor := 0, ""
	for {
		p := url.Values{"q": {"천식"}, "size": {"10"}}
		if cursor != "" {
			p.Set("cursor", cursor)
		}
		var page Page[PostHit]
		if code := s.get(t, "/v1/posts/search", p, &page); code != 200 {
			t.Fatalf("page %d: %d", pages+1, code)
		}
		pages++
		for _, h := range page.Hits {
			if seen[h.ID] {
				t.Errorf("post %d on two pages", h.ID)
			}
			seen[h.ID] = true
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if int64(len(seen)) != first.Total.Value || pages < 3 {
		t.Errorf("%d pages gave %d posts, total says %d", pages, len(seen), first.Total.Value)
	}

	// The whole feed: every searchable post once, none by a blocked or deleted user.
	feed := map[uint64]bool{}
	cursor = ""
	for range 20 {
		p := url.Values{"sort": {"popular"}, "size": {"50"}}
		if cursor != "" {
			p.Set("cursor", cursor)
		}
		var page FeedResponse
		if code := s.get(t, "/v1/feed/posts", p, &page); code != 200 {
			t.Fatalf("feed: %d", code)
		}
		for _, h := range page.Posts {
			if feed[h.ID] {
				t.Errorf("feed repeats post %d", h.ID)
			}
			feed[h.ID] = true
			if slices.Contains(blocked, h.AuthorID) {
				t.Errorf("feed shows post %d of blocked or deleted user %d", h.ID, h.AuthorID)
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(feed) != searchable {
		t.Errorf("feed has %d posts, MySQL %d searchable", len(feed), searchable)
	}
}

package community_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
)

// TestHiddenPostAnswers404OnEveryVerb: a hidden post is, to everyone but
// its author and admins, exactly like a post that does not exist, on every
// verb (issue #26 finding 5: PATCH and DELETE by a non-author answered 403,
// and deleting a comment under it too, which told that it exists).
func TestHiddenPostAnswers404OnEveryVerb(t *testing.T) {
	e := newEnv(t, 3)
	_, author := e.user("작성자", "user", "active")
	_, stranger := e.user("다른사람", "user", "active")
	_, admin := e.user("관리자", "admin", "active")
	_, post := e.do("POST", "/v1/posts", author, map[string]any{"category": "자유", "title": "숨길 글", "body": "본문"})
	hidden := fmt.Sprintf("/v1/posts/%v", post["id"])
	_, own := e.do("POST", hidden+"/comments", stranger, map[string]any{"body": "다른 사람 댓글"})
	_, authors := e.do("POST", hidden+"/comments", author, map[string]any{"body": "작성자 댓글"})
	if _, err := e.db.Exec(`UPDATE posts SET status = 'hidden' WHERE id = ?`, post["id"]); err != nil {
		t.Fatal(err)
	}
	missing := "/v1/posts/987654321"
	verbs := []struct {
		name, method, suffix string
		body                 any
	}{
		{"get", "GET", "", nil},
		{"edit", "PATCH", "", map[string]any{"title": "바꿈"}},
		{"delete", "DELETE", "", nil},
		{"list comments", "GET", "/comments", nil},
		{"comment", "POST", "/comments", map[string]any{"body": "댓글"}},
		{"delete own comment", "DELETE", fmt.Sprintf("/comments/%v", own["id"]), nil},
		{"delete the author's comment", "DELETE", fmt.Sprintf("/comments/%v", authors["id"]), nil},
		{"like", "PUT", "/like", nil},
		{"unlike", "DELETE", "/like", nil},
		{"report", "POST", "/reports", map[string]any{"reason": "spam"}},
	}
	for _, v := range verbs {
		t.Run(v.name, func(t *testing.T) {
			gotSt, got := e.do(v.method, hidden+v.suffix, stranger, v.body)
			wantSt, want := e.do(v.method, missing+v.suffix, stranger, v.body)
			if gotSt != 404 || code(got) != "not_found" || gotSt != wantSt || code(got) != code(want) {
				t.Errorf("hidden post: %d %v; a missing one: %d %v; want both 404 not_found", gotSt, got, wantSt, want)
			}
		})
	}
	for _, who := range []struct{ name, tok string }{{"author", author}, {"admin", admin}} {
		if st, body := e.do("GET", hidden, who.tok, nil); st != 200 || body["status"] != "hidden" {
			t.Errorf("%s reads the hidden post: %d %v", who.name, st, body)
		}
	}
	if st, body := e.do("PATCH", hidden, admin, map[string]any{"title": "관리자가 바꿈"}); st != 403 || code(body) != "forbidden" {
		t.Errorf("admin edits someone's hidden post: %d %v, want 403 forbidden (it exists for admins)", st, body)
	}
	if st, body := e.do("PATCH", hidden, author, map[string]any{"title": "작성자가 고침"}); st != 200 || body["title"] != "작성자가 고침" {
		t.Errorf("author edits their hidden post: %d %v", st, body)
	}
	if st, _ := e.do("DELETE", hidden+fmt.Sprintf("/comments/%v", own["id"]), admin, nil); st != 204 {
		t.Errorf("admin deletes a comment under a hidden post: %d", st)
	}
	if st, _ := e.do("DELETE", hidden, author, nil); st != 204 {
		t.Errorf("author deletes their hidden post: %d", st)
	}
}

// TestConcurrentLikesAnswerTheCount: every like answers the count after its
// own change (issue #26 finding 8: a like waiting for the post's lock read
// the count from a snapshot taken before it, and answered like_count 0).
func TestConcurrentLikesAnswerTheCount(t *testing.T) {
	e := newEnv(t, 3)
	_, author := e.user("작성자", "user", "active")
	_, post := e.do("POST", "/v1/posts", author, map[string]any{"category": "자유", "title": "인기 글", "body": "본문"})
	path := fmt.Sprintf("/v1/posts/%v/like", post["id"])
	likeAll := func(toks []string) []float64 {
		counts := make([]float64, len(toks))
		var wg sync.WaitGroup
		for i, tok := range toks {
			wg.Go(func() {
				rec := e.serve("PUT", path, tok, nil)
				var body struct {
					LikeCount float64 `json:"like_count"`
				}
				if rec.Code != 200 {
					t.Errorf("like %d: %d %s", i, rec.Code, rec.Body)
				}
				_ = json.Unmarshal(rec.Body.Bytes(), &body)
				counts[i] = body.LikeCount
			})
		}
		wg.Wait()
		return counts
	}

	users := make([]string, 10)
	for i := range users {
		_, users[i] = e.user(fmt.Sprintf("좋아요%d", i), "user", "active")
	}
	top := 0.0
	for i, n := range likeAll(users) {
		if n < 1 || n > 10 {
			t.Errorf("user %d's like answered like_count %v, want 1..10", i, n)
		}
		top = max(top, n)
	}
	if top != 10 {
		t.Errorf("the last of 10 likes answered %v, want 10", top)
	}

	_, again := e.user("한사람", "user", "active")
	same := make([]string, 10)
	for i := range same {
		same[i] = again
	}
	for i, n := range likeAll(same) {
		if n != 11 {
			t.Errorf("one user's like #%d (10 at once) answered like_count %v, want 11", i, n)
		}
	}
	if likes, _ := e.counts(post["id"].(float64)); likes != 11 {
		t.Errorf("stored like_count %d, want 11", likes)
	}
}

// TestPostTextRefusesInvisibleCharacters: titles, bodies and comments take
// the one rule of users' text (usertext, through web.Fields.Text): a title
// reversed with U+202E or padded with the Hangul filler U+3164 could pass
// for another one (issue #26 finding 4).
func TestPostTextRefusesInvisibleCharacters(t *testing.T) {
	e := newEnv(t, 3)
	_, author := e.user("작성자", "user", "active")
	_, post := e.do("POST", "/v1/posts", author, map[string]any{"category": "자유", "title": "제목", "body": "본문"})
	path := fmt.Sprintf("/v1/posts/%v", post["id"])
	tests := []struct {
		name, method, path string
		body               map[string]any
	}{
		{"title with a right-to-left override", "POST", "/v1/posts", map[string]any{"category": "자유", "title": "\u202e공지사항", "body": "본문"}},
		{"title with a Hangul filler", "POST", "/v1/posts", map[string]any{"category": "자유", "title": "공지\u3164", "body": "본문"}},
		{"body with NUL", "POST", "/v1/posts", map[string]any{"category": "자유", "title": "제목", "body": "본\x00문"}},
		{"body with a zero-width space", "POST", "/v1/posts", map[string]any{"category": "자유", "title": "제목", "body": "본\u200b문"}},
		{"edited title with an isolate", "PATCH", path, map[string]any{"title": "제목\u2066"}},
		{"comment with a right-to-left override", "POST", path + "/comments", map[string]any{"body": "댓글\u202e"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if st, body := e.do(tt.method, tt.path, author, tt.body); st != 400 || code(body) != "validation_failed" {
				t.Errorf("%d %v, want 400 validation_failed", st, body)
			}
		})
	}
}

package community_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/soomcare/soomcare/apidoc/apidoctest"
	"github.com/soomcare/soomcare/auth"
	"github.com/soomcare/soomcare/auth/authtest"
	"github.com/soomcare/soomcare/community"
	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/server"
	"github.com/soomcare/soomcare/web"
)

type env struct {
	t   *testing.T
	db  *sql.DB
	h   http.Handler
	v   *apidoctest.Validator
	iss *auth.TokenIssuer
}

func newEnv(t *testing.T, threshold int) *env {
	t.Helper()
	return newEnvWith(t, community.Options{ReportHideThreshold: threshold})
}

func newEnvWith(t *testing.T, o community.Options) *env {
	t.Helper()
	db, _ := testdb.New(t)
	iss := authtest.NewIssuer(t, nil)
	api := community.New(db, o)
	h := server.New(config.HTTP{MaxBodyBytes: 64 << 10}, slog.New(slog.DiscardHandler), nil, auth.Use(iss), api.Mount).Handler()
	return &env{t: t, db: db, h: h, v: apidoctest.New(t), iss: iss}
}

// user inserts a user and returns a bearer token for them.
func (e *env) user(nick, role, status string) (uint64, string) {
	e.t.Helper()
	res, err := e.db.Exec(`INSERT INTO users (nickname, role, status) VALUES (?, ?, ?)`, nick, role, status)
	if err != nil {
		e.t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	tok, _, err := e.iss.Issue(web.Principal{UserID: uint64(id), Role: role})
	if err != nil {
		e.t.Fatal(err)
	}
	return uint64(id), tok
}

func (e *env) do(method, path, tok string, body any) (int, map[string]any) {
	e.t.Helper()
	rec := e.serve(method, path, tok, body)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

// serve runs one request, checked against the OpenAPI document.
func (e *env) serve(method, path, tok string, body any) *httptest.ResponseRecorder {
	e.t.Helper()
	var r io.Reader
	if s, ok := body.(string); ok {
		r = strings.NewReader(s)
	} else if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return e.v.Serve(e.t, e.h, req)
}

func (e *env) counts(postID float64) (likes, comments int) {
	e.t.Helper()
	if err := e.db.QueryRow(`SELECT like_count, comment_count FROM posts WHERE id = ?`, postID).Scan(&likes, &comments); err != nil {
		e.t.Fatal(err)
	}
	var realLikes, realComments int
	e.db.QueryRow(`SELECT COUNT(*) FROM post_likes WHERE post_id = ?`, postID).Scan(&realLikes)
	e.db.QueryRow(`SELECT COUNT(*) FROM comments WHERE post_id = ? AND deleted_at IS NULL`, postID).Scan(&realComments)
	if likes != realLikes || comments != realComments {
		e.t.Errorf("counters drifted: like_count %d vs %d rows, comment_count %d vs %d rows", likes, realLikes, comments, realComments)
	}
	return likes, comments
}

func code(b map[string]any) string { s, _ := b["code"].(string); return s }

func TestPostsAuthorization(t *testing.T) {
	e := newEnv(t, 3)
	_, a := e.user("작성자", "user", "active")
	_, b := e.user("다른사람", "user", "active")
	_, admin := e.user("관리자", "admin", "active")
	_, blocked := e.user("차단됨", "user", "blocked")

	st, post := e.do("POST", "/v1/posts", a, map[string]any{"category": "질문", "title": "  흡입기 사용법  ", "body": "스페이서는 꼭 써야 하나요?\n궁금합니다."})
	if st != 201 || post["title"] != "흡입기 사용법" {
		t.Fatalf("create %d %v", st, post)
	}
	path := fmt.Sprintf("/v1/posts/%v", post["id"])

	tests := []struct {
		name, method, path, tok string
		body                    any
		status                  int
		code                    string
	}{
		{"anonymous create", "POST", "/v1/posts", "", map[string]any{"category": "자유", "title": "t", "body": "b"}, 401, "unauthorized"},
		{"tampered token", "POST", "/v1/posts", a + "x", map[string]any{"category": "자유", "title": "t", "body": "b"}, 401, "unauthorized"},
		{"blocked create", "POST", "/v1/posts", blocked, map[string]any{"category": "자유", "title": "t", "body": "b"}, 403, "user_blocked"},
		{"blocked comment", "POST", path + "/comments", blocked, map[string]any{"body": "hi"}, 403, "user_blocked"},
		{"blocked like", "PUT", path + "/like", blocked, nil, 403, "user_blocked"},
		{"missing fields", "POST", "/v1/posts", a, map[string]any{"title": " "}, 400, "validation_failed"},
		{"title too long", "POST", "/v1/posts", a, map[string]any{"category": "자유", "title": strings.Repeat("가", 201), "body": "b"}, 400, "validation_failed"},
		{"B edits A's post", "PATCH", path, b, map[string]any{"title": "hacked"}, 403, "forbidden"},
		{"B deletes A's post", "DELETE", path, b, nil, 403, "forbidden"},
		{"empty patch", "PATCH", path, a, map[string]any{}, 400, "validation_failed"},
		{"bad id", "GET", "/v1/posts/abc", "", nil, 404, "not_found"},
		{"missing post", "GET", "/v1/posts/999999", "", nil, 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, body := e.do(tt.method, tt.path, tt.tok, tt.body)
			if st != tt.status || code(body) != tt.code {
				t.Errorf("%d %v, want %d %s", st, body, tt.status, tt.code)
			}
		})
	}
	if st, body := e.do("GET", path, "", nil); st != 200 || body["title"] != "흡입기 사용법" {
		t.Fatalf("B's attempts must change nothing: %d %v", st, body)
	}
	if st, body := e.do("PATCH", path, a, map[string]any{"title": "스페이서 질문"}); st != 200 || body["title"] != "스페이서 질문" || body["category"] != "질문" {
		t.Fatalf("author edit %d %v", st, body)
	}
	if st, _ := e.do("DELETE", path, a, nil); st != 204 {
		t.Fatalf("author delete %d", st)
	}
	var deleted sql.NullTime
	e.db.QueryRow(`SELECT deleted_at FROM posts WHERE id = ?`, post["id"]).Scan(&deleted)
	if !deleted.Valid {
		t.Error("delete must be soft (deleted_at set, row kept)")
	}
	if st, _ := e.do("GET", path, a, nil); st != 404 {
		t.Errorf("deleted post: %d", st)
	}
	_, p2 := e.do("POST", "/v1/posts", a, map[string]any{"category": "자유", "title": "t", "body": "b"})
	if st, _ := e.do("DELETE", fmt.Sprintf("/v1/posts/%v", p2["id"]), admin, nil); st != 204 {
		t.Errorf("admin delete %d", st)
	}
}

func TestLikesAndComments(t *testing.T) {
	e := newEnv(t, 3)
	_, a := e.user("작성자", "user", "active")
	_, b := e.user("독자", "user", "active")
	_, post := e.do("POST", "/v1/posts", a, map[string]any{"category": "후기", "title": "제목", "body": "본문"})
	id := post["id"].(float64)
	path := fmt.Sprintf("/v1/posts/%v", id)

	for i := 0; i < 3; i++ {
		if st, body := e.do("PUT", path+"/like", b, nil); st != 200 || body["like_count"] != 1.0 || body["liked"] != true {
			t.Fatalf("like #%d: %d %v", i, st, body)
		}
	}
	if _, body := e.do("GET", path, b, nil); body["liked_by_me"] != true {
		t.Errorf("liked_by_me %v", body)
	}
	// Concurrent likes by many users stay consistent.
	var wg sync.WaitGroup
	toks := make([]string, 8)
	for i := range toks {
		_, toks[i] = e.user(fmt.Sprintf("동시%d", i), "user", "active")
	}
	for _, tok := range toks {
		wg.Add(2)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest("PUT", path+"/like", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			e.h.ServeHTTP(httptest.NewRecorder(), req)
		}()
		go func() {
			defer wg.Done()
			req := httptest.NewRequest("PUT", path+"/like", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			e.h.ServeHTTP(httptest.NewRecorder(), req)
		}()
	}
	wg.Wait()
	if likes, _ := e.counts(id); likes != 9 {
		t.Errorf("like_count %d, want 9", likes)
	}
	for i := 0; i < 2; i++ {
		if st, body := e.do("DELETE", path+"/like", b, nil); st != 200 || body["like_count"] != 8.0 || body["liked"] != false {
			t.Fatalf("unlike #%d: %d %v", i, st, body)
		}
	}

	st, c1 := e.do("POST", path+"/comments", b, map[string]any{"body": "저도 궁금해요"})
	if st != 201 || c1["parent_id"] != nil {
		t.Fatalf("comment %d %v", st, c1)
	}
	st, r1 := e.do("POST", path+"/comments", a, map[string]any{"body": "답글", "parent_id": c1["id"]})
	if st != 201 || r1["parent_id"] != c1["id"] {
		t.Fatalf("reply %d %v", st, r1)
	}
	if st, body := e.do("POST", path+"/comments", b, map[string]any{"body": "답글의 답글", "parent_id": r1["id"]}); st != 400 || code(body) != "reply_depth" {
		t.Errorf("reply to a reply: %d %v", st, body)
	}
	if st, body := e.do("POST", path+"/comments", b, map[string]any{"body": "x", "parent_id": 987654}); st != 400 || code(body) != "validation_failed" {
		t.Errorf("unknown parent: %d %v", st, body)
	}
	if _, comments := e.counts(id); comments != 2 {
		t.Errorf("comment_count %d, want 2 (failed replies must write nothing)", comments)
	}
	if st, body := e.do("DELETE", fmt.Sprintf("%s/comments/%v", path, c1["id"]), a, nil); st != 403 || code(body) != "forbidden" {
		t.Errorf("A deletes B's comment: %d %v", st, body)
	}
	if st, _ := e.do("DELETE", fmt.Sprintf("%s/comments/%v", path, r1["id"]), a, nil); st != 204 {
		t.Errorf("delete own reply: %d", st)
	}
	if _, comments := e.counts(id); comments != 1 {
		t.Errorf("comment_count %d, want 1", comments)
	}
	if st, body := e.do("GET", path+"/comments", "", nil); st != 200 || len(body["items"].([]any)) != 1 {
		t.Errorf("list %d %v", st, body)
	}
}

func TestReportsHidePost(t *testing.T) {
	e := newEnv(t, 3)
	_, author := e.user("작성자", "user", "active")
	_, post := e.do("POST", "/v1/posts", author, map[string]any{"category": "자유", "title": "광고", "body": "싸게 팝니다"})
	path := fmt.Sprintf("/v1/posts/%v", post["id"])
	var reporters []string
	for i := 0; i < 3; i++ {
		_, tok := e.user(fmt.Sprintf("신고자%d", i), "user", "active")
		reporters = append(reporters, tok)
	}
	if st, body := e.do("POST", path+"/reports", reporters[0], map[string]any{"reason": "spam"}); st != 201 || body["hidden"] != false {
		t.Fatalf("report 1: %d %v", st, body)
	}
	if st, body := e.do("POST", path+"/reports", reporters[0], map[string]any{"reason": "spam"}); st != 409 || code(body) != "already_reported" {
		t.Errorf("second report by the same user: %d %v", st, body)
	}
	if st, body := e.do("POST", path+"/reports", reporters[1], map[string]any{"reason": "nonsense"}); st != 400 || code(body) != "validation_failed" {
		t.Errorf("bad reason: %d %v", st, body)
	}
	e.do("POST", path+"/reports", reporters[1], map[string]any{"reason": "abuse", "memo": "도배"})
	if st, body := e.do("POST", path+"/reports", reporters[2], map[string]any{"reason": "spam"}); st != 201 || body["hidden"] != true {
		t.Fatalf("third report must hide: %d %v", st, body)
	}
	var status string
	e.db.QueryRow(`SELECT status FROM posts WHERE id = ?`, post["id"]).Scan(&status)
	if status != "hidden" {
		t.Fatalf("status %q", status)
	}
	if st, _ := e.do("GET", path, reporters[0], nil); st != 404 {
		t.Errorf("hidden post for others: %d", st)
	}
	if st, body := e.do("GET", path, author, nil); st != 200 || body["status"] != "hidden" {
		t.Errorf("hidden post for its author: %d %v", st, body)
	}
	if st, _ := e.do("PUT", path+"/like", reporters[0], nil); st != 404 {
		t.Errorf("like a hidden post: %d", st)
	}
	_, late := e.user("늦은신고자", "user", "active")
	if st, body := e.do("POST", path+"/reports", late, map[string]any{"reason": "spam"}); st != 404 || code(body) != "not_found" {
		t.Errorf("report a hidden post: %d %v", st, body)
	}
}

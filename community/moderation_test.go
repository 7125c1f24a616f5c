package community_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soomcare/soomcare/community"
)

// clock is a settable clock for community.Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Microsecond)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// createdAt sets a user's account creation time.
func (e *env) createdAt(id uint64, at time.Time) {
	e.t.Helper()
	if _, err := e.db.Exec(`UPDATE users SET created_at = ? WHERE id = ?`, at, id); err != nil {
		e.t.Fatal(err)
	}
}

// post creates a post by tok and returns its path.
func (e *env) post(tok string) string {
	e.t.Helper()
	st, body := e.do("POST", "/v1/posts", tok, map[string]any{"category": "자유", "title": "제목", "body": "본문"})
	if st != 201 {
		e.t.Fatalf("create post: %d %v", st, body)
	}
	return fmt.Sprintf("/v1/posts/%v", body["id"])
}

func (e *env) status(path string) string {
	e.t.Helper()
	var s string
	if err := e.db.QueryRow(`SELECT status FROM posts WHERE id = ?`, path[len("/v1/posts/"):]).Scan(&s); err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) report(path, tok string) (int, map[string]any) {
	e.t.Helper()
	return e.do("POST", path+"/reports", tok, map[string]any{"reason": "spam"})
}

const week = 7 * 24 * time.Hour

// Five throwaway accounts made today must not hide a post (issue #10 item
// 3); reports from accounts exactly community.reporter_min_age old do.
func TestNewAccountsCannotHidePost(t *testing.T) {
	clk := newClock()
	e := newEnvWith(t, community.Options{ReportHideThreshold: 3, ReporterMinAge: week, Now: clk.Now})
	_, author := e.user("작성자", "user", "active")
	path := e.post(author)
	for i := range 5 {
		_, tok := e.user(fmt.Sprintf("새계정%d", i), "user", "active")
		if st, body := e.report(path, tok); st != 201 || body["hidden"] != false {
			t.Fatalf("report %d from an account made today: %d %v", i, st, body)
		}
	}
	if s := e.status(path); s != "visible" {
		t.Fatalf("five reports from new accounts hid the post (status %q)", s)
	}
	var recorded, counting int
	e.db.QueryRow(`SELECT COUNT(*), COALESCE(SUM(counts_toward_hide), 0) FROM post_reports`).Scan(&recorded, &counting)
	if recorded != 5 || counting != 0 {
		t.Errorf("reports recorded %d (want 5), counting %d (want 0)", recorded, counting)
	}
	for i := range 3 {
		id, tok := e.user(fmt.Sprintf("오랜계정%d", i), "user", "active")
		e.createdAt(id, clk.Now().Add(-week)) // exactly at the threshold
		st, body := e.report(path, tok)
		if want := i == 2; st != 201 || body["hidden"] != want {
			t.Fatalf("aged report %d: %d %v, want hidden=%v", i, st, body, want)
		}
	}
	if s := e.status(path); s != "hidden" {
		t.Errorf("three qualifying reports: status %q", s)
	}
}

// Each reporter condition on its own: age (the boundary) and activity.
func TestReporterQualifies(t *testing.T) {
	clk := newClock()
	e := newEnvWith(t, community.Options{ReportHideThreshold: 1, ReporterMinAge: week, ReporterMinActivity: 1, Now: clk.Now})
	_, author := e.user("작성자", "user", "active")
	tests := []struct {
		name   string
		age    time.Duration
		active func(tok string) // the reporter's activity before reporting
		counts bool
	}{
		{"new, active", time.Hour, comment(e), false},
		{"one microsecond short, active", week - time.Microsecond, comment(e), false},
		{"exactly old enough, active", week, comment(e), true},
		{"old, own post", 30 * 24 * time.Hour, func(tok string) { e.post(tok) }, true},
		{"old, never wrote", 30 * 24 * time.Hour, func(string) {}, false},
		{"old, only a deleted post", 30 * 24 * time.Hour, func(tok string) { e.do("DELETE", e.post(tok), tok, nil) }, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := e.post(author)
			id, tok := e.user(fmt.Sprintf("신고자%d", i), "user", "active")
			tt.active(tok)
			e.createdAt(id, clk.Now().Add(-tt.age))
			st, body := e.report(path, tok)
			if st != 201 || body["hidden"] != tt.counts {
				t.Errorf("%d %v, want hidden=%v", st, body, tt.counts)
			}
			var counts bool
			e.db.QueryRow(`SELECT counts_toward_hide FROM post_reports WHERE user_id = ?`, id).Scan(&counts)
			if counts != tt.counts {
				t.Errorf("counts_toward_hide = %v", counts)
			}
		})
	}
}

// comment returns an activity that comments on a fresh post of the reporter's.
func comment(e *env) func(string) {
	return func(tok string) {
		e.t.Helper()
		_, other := e.user(fmt.Sprintf("댓글대상%d", time.Now().UnixNano()), "user", "active")
		if st, body := e.do("POST", e.post(other)+"/comments", tok, map[string]any{"body": "댓글"}); st != 201 {
			e.t.Fatalf("comment: %d %v", st, body)
		}
	}
}

func TestReportDailyLimit(t *testing.T) {
	clk := newClock()
	t0 := clk.Now()
	e := newEnvWith(t, community.Options{ReportHideThreshold: 5, ReportDailyLimit: 3, Now: clk.Now})
	_, author := e.user("작성자", "user", "active")
	var posts []string
	for range 5 {
		posts = append(posts, e.post(author))
	}
	_, tok := e.user("신고자", "user", "active")
	for i := range 3 {
		clk.Set(t0.Add(time.Duration(i) * time.Hour))
		if st, body := e.report(posts[i], tok); st != 201 {
			t.Fatalf("report %d: %d %v", i, st, body)
		}
	}
	limited := func(at time.Time, post string, wantRetry string) {
		t.Helper()
		clk.Set(at)
		rec := e.serve("POST", post+"/reports", tok, map[string]any{"reason": "spam"})
		if rec.Code != 429 || rec.Header().Get("Retry-After") != wantRetry {
			t.Errorf("past the limit at +%s: %d Retry-After %q %s, want 429 Retry-After %s",
				at.Sub(t0), rec.Code, rec.Header().Get("Retry-After"), rec.Body, wantRetry)
		}
		if c := code(decode(rec)); c != community.CodeReportLimited {
			t.Errorf("code %q", c)
		}
	}
	limited(t0.Add(3*time.Hour), posts[3], "75600") // 21 h until the first report is 24 h old
	clk.Set(t0.Add(24*time.Hour + time.Second))
	if st, body := e.report(posts[3], tok); st != 201 {
		t.Fatalf("after the first report left the window: %d %v", st, body)
	}
	limited(t0.Add(24*time.Hour+time.Second), posts[4], "3599")
	var n int
	e.db.QueryRow(`SELECT COUNT(*) FROM post_reports`).Scan(&n)
	if n != 4 {
		t.Errorf("%d reports recorded, want 4 (refused ones write nothing)", n)
	}

	// Concurrent reports by one user cannot pass the limit together.
	_, racer := e.user("동시신고자", "user", "active")
	var more []string
	for range 8 {
		more = append(more, e.post(author))
	}
	var wg sync.WaitGroup
	for _, p := range more {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest("POST", p+"/reports", jsonBody(`{"reason":"spam"}`))
			req.Header.Set("Authorization", "Bearer "+racer)
			req.Header.Set("Content-Type", "application/json")
			e.h.ServeHTTP(httptest.NewRecorder(), req)
		}()
	}
	wg.Wait()
	e.db.QueryRow(`SELECT COUNT(*) FROM post_reports r JOIN users u ON u.id = r.user_id WHERE u.nickname = '동시신고자'`).Scan(&n)
	if n != 3 {
		t.Errorf("concurrent reports recorded %d, want the limit 3", n)
	}
}

func TestAdminQueue(t *testing.T) {
	clk := newClock()
	e := newEnvWith(t, community.Options{ReportHideThreshold: 2, Now: clk.Now})
	_, author := e.user("작성자", "user", "active")
	adminID, admin := e.user("관리자", "admin", "active")
	_, editor := e.user("편집자", "editor", "active")
	_, user := e.user("일반", "user", "active")
	_, blockedAdmin := e.user("차단관리자", "admin", "blocked")
	var reporters []string
	for i := range 5 {
		_, tok := e.user(fmt.Sprintf("신고자%d", i), "user", "active")
		reporters = append(reporters, tok)
	}
	a, b, c := e.post(author), e.post(author), e.post(author)
	e.report(a, reporters[0])
	e.do("POST", a+"/reports", reporters[1], map[string]any{"reason": "abuse", "memo": "욕설"})
	e.report(b, reporters[0])
	if e.status(a) != "hidden" || e.status(b) != "visible" || e.status(c) != "visible" {
		t.Fatalf("setup: %s %s %s", e.status(a), e.status(b), e.status(c))
	}

	// Only admins.
	for _, tt := range []struct {
		name, method, path, tok string
		status                  int
		code                    string
	}{
		{"anonymous list", "GET", "/v1/admin/reports", "", 401, "unauthorized"},
		{"user list", "GET", "/v1/admin/reports", user, 403, "forbidden"},
		{"editor list", "GET", "/v1/admin/reports", editor, 403, "forbidden"},
		{"author restores", "POST", "/v1/admin/reports/" + id(a) + "/restore", author, 403, "forbidden"},
		{"user confirms", "POST", "/v1/admin/reports/" + id(b) + "/confirm", user, 403, "forbidden"},
		{"blocked admin restores", "POST", "/v1/admin/reports/" + id(a) + "/restore", blockedAdmin, 403, "user_blocked"},
		{"missing post", "POST", "/v1/admin/reports/999999/confirm", admin, 404, "not_found"},
		{"bad id", "POST", "/v1/admin/reports/x/restore", admin, 404, "not_found"},
		{"bad cursor", "GET", "/v1/admin/reports?cursor=abc", admin, 400, "bad_cursor"},
		{"bad status", "GET", "/v1/admin/reports?status=gone", admin, 400, "validation_failed"},
		{"bad size", "GET", "/v1/admin/reports?size=101", admin, 400, "validation_failed"},
		{"unknown parameter", "GET", "/v1/admin/reports?page=2", admin, 400, "validation_failed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, body := e.do(tt.method, tt.path, tt.tok, nil)
			if st != tt.status || code(body) != tt.code {
				t.Errorf("%d %v, want %d %s", st, body, tt.status, tt.code)
			}
		})
	}
	if e.status(a) != "hidden" || e.status(b) != "visible" {
		t.Fatal("refused decisions changed a post")
	}

	// The queue: a (hidden, 2 reports) then b (visible, 1), one per page.
	st, p1 := e.do("GET", "/v1/admin/reports?size=1", admin, nil)
	items := p1["items"].([]any)
	if st != 200 || len(items) != 1 || p1["next_cursor"] == nil {
		t.Fatalf("page 1: %d %v", st, p1)
	}
	it := items[0].(map[string]any)
	post := it["post"].(map[string]any)
	if id(a) != fmt.Sprint(post["id"]) || post["status"] != "hidden" || it["open_reports"] != 2.0 || it["qualifying_reports"] != 2.0 || it["last_decision"] != nil {
		t.Errorf("page 1 item: %v", it)
	}
	if rs := fmt.Sprint(it["reasons"]); rs != "[map[count:1 reason:abuse] map[count:1 reason:spam]]" {
		t.Errorf("reasons %s", rs)
	}
	_, p2 := e.do("GET", "/v1/admin/reports?size=1&cursor="+url.QueryEscape(p1["next_cursor"].(string)), admin, nil)
	if items := p2["items"].([]any); len(items) != 1 || fmt.Sprint(items[0].(map[string]any)["post"].(map[string]any)["id"]) != id(b) || p2["next_cursor"] != nil {
		t.Errorf("page 2: %v", p2)
	}
	if st, body := e.do("GET", "/v1/admin/reports?status=visible&cursor="+url.QueryEscape(p1["next_cursor"].(string)), admin, nil); st != 400 || code(body) != "bad_cursor" {
		t.Errorf("cursor of another filter: %d %v", st, body)
	}
	if got := queueIDs(e, "/v1/admin/reports?status=hidden", admin); got != "["+id(a)+"]" {
		t.Errorf("hidden only: %s", got)
	}

	// Restore a: visible again, reports resolved, who and when kept.
	t1 := clk.Now().Add(time.Minute)
	clk.Set(t1)
	st, d := e.do("POST", "/v1/admin/reports/"+id(a)+"/restore", admin, nil)
	if st != 200 || d["decision"] != "restored" || d["status"] != "visible" || d["resolved_reports"] != 2.0 ||
		d["decided_by"].(map[string]any)["id"] != float64(adminID) || d["decided_at"] != t1.Format(time.RFC3339Nano) {
		t.Fatalf("restore: %d %v", st, d)
	}
	var by uint64
	var at time.Time
	if err := e.db.QueryRow(`SELECT decided_by, decided_at FROM post_moderations WHERE post_id = ? AND decision = 'restored'`, id(a)).Scan(&by, &at); err != nil || by != adminID || !at.Equal(t1) {
		t.Errorf("kept decision: %v %d %s", err, by, at)
	}
	if e.status(a) != "visible" {
		t.Error("restored post is not visible")
	}
	if st, _ := e.do("GET", a, user, nil); st != 200 {
		t.Errorf("restored post for others: %d", st)
	}
	if got := queueIDs(e, "/v1/admin/reports", admin); got != "["+id(b)+"]" {
		t.Errorf("queue after restore: %s", got)
	}

	// Its resolved reports cannot hide it again; new ones can, and it returns with its last decision.
	if st, body := e.report(a, reporters[2]); st != 201 || body["hidden"] != false {
		t.Errorf("first new report after restore: %d %v", st, body)
	}
	if st, body := e.report(a, reporters[0]); st != 409 || code(body) != "already_reported" {
		t.Errorf("same reporter again: %d %v", st, body)
	}
	if got := queueIDs(e, "/v1/admin/reports", admin); got != "["+id(b)+" "+id(a)+"]" {
		t.Errorf("queue after a new report: %s", got)
	}
	_, q := e.do("GET", "/v1/admin/reports?status=visible", admin, nil)
	last := q["items"].([]any)[1].(map[string]any)["last_decision"].(map[string]any)
	if last["decision"] != "restored" || last["decided_by"].(map[string]any)["nickname"] != "관리자" {
		t.Errorf("last decision: %v", last)
	}
	if st, body := e.report(a, reporters[3]); st != 201 || body["hidden"] != true {
		t.Errorf("second new report after restore: %d %v", st, body)
	}

	// Confirm a (already hidden) and b (visible: hides it).
	for _, p := range []string{a, b} {
		st, d := e.do("POST", "/v1/admin/reports/"+id(p)+"/confirm", admin, nil)
		if st != 200 || d["decision"] != "confirmed" || d["status"] != "hidden" || e.status(p) != "hidden" {
			t.Errorf("confirm %s: %d %v", p, st, d)
		}
	}
	if got := queueIDs(e, "/v1/admin/reports", admin); got != "[]" {
		t.Errorf("queue after decisions: %s", got)
	}
	var open, decisions int
	e.db.QueryRow(`SELECT COUNT(*) FROM post_reports WHERE moderation_id IS NULL`).Scan(&open)
	e.db.QueryRow(`SELECT COUNT(*) FROM post_moderations`).Scan(&decisions)
	if open != 0 || decisions != 3 {
		t.Errorf("open reports %d (want 0), decisions %d (want 3)", open, decisions)
	}
	e.do("DELETE", c, author, nil)
	if st, body := e.do("POST", "/v1/admin/reports/"+id(c)+"/restore", admin, nil); st != 404 || code(body) != "not_found" {
		t.Errorf("deleted post: %d %v", st, body)
	}
}

func id(path string) string { return path[len("/v1/posts/"):] }

func queueIDs(e *env, path, tok string) string {
	e.t.Helper()
	st, body := e.do("GET", path, tok, nil)
	if st != 200 {
		e.t.Fatalf("%s: %d %v", path, st, body)
	}
	var ids []string
	for _, it := range body["items"].([]any) {
		ids = append(ids, fmt.Sprint(it.(map[string]any)["post"].(map[string]any)["id"]))
	}
	return fmt.Sprint(ids)
}

func decode(rec *httptest.ResponseRecorder) map[string]any {
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return out
}

func jsonBody(s string) io.Reader { return strings.NewReader(s) }

// Reports recorded before migration 00041 (no counts_toward_hide written)
// stay in the queue but count for nothing toward hiding.
func TestLegacyReportsDoNotCount(t *testing.T) {
	e := newEnvWith(t, community.Options{ReportHideThreshold: 2})
	_, author := e.user("작성자", "user", "active")
	_, admin := e.user("관리자", "admin", "active")
	legacyID, _ := e.user("예전신고자", "user", "active")
	_, tok := e.user("신고자", "user", "active")
	path := e.post(author)
	if _, err := e.db.Exec(`INSERT INTO post_reports (post_id, user_id, reason) VALUES (?, ?, 'spam')`, id(path), legacyID); err != nil {
		t.Fatal(err)
	}
	if st, body := e.report(path, tok); st != 201 || body["hidden"] != false {
		t.Errorf("one qualifying report and one legacy report: %d %v", st, body)
	}
	_, q := e.do("GET", "/v1/admin/reports", admin, nil)
	if it := q["items"].([]any)[0].(map[string]any); it["open_reports"] != 2.0 || it["qualifying_reports"] != 1.0 {
		t.Errorf("queue item %v", it)
	}
}

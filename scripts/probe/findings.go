package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// newUser signs up a fresh account of this run; tag keeps its e-mail and
// nickname apart from the run's others.
func (p *probe) newUser(ctx context.Context, tag string) (user, error) {
	return p.c.signUp(ctx, p.email(tag), "pw-"+randomHex(12), "프로브"+p.run+tag)
}

func (p *probe) email(tag string) string { return "probe-" + p.run + "-" + tag + "@example.com" }

// refused is a 400 in the error envelope: bad input said so, not a 500, not
// an empty 200.
func refused(a answer) bool { return a.status == http.StatusBadRequest && a.envelope() }

// ---------------------------------------------------------------- 1. a committed signing key

// finding1 forges access tokens with the secret once committed to
// scripts/run-local.sh and with a random one; both must be refused (401).
// With -serve-binary it also starts `serve` with the committed secret,
// which must refuse to start.
func (p *probe) finding1(ctx context.Context) {
	u, err := p.newUser(ctx, "1")
	if err != nil {
		p.setupFailed("1", err)
		return
	}
	a := p.c.do(ctx, http.MethodGet, "/v1/admin/reports", p.admin.token, nil)
	p.check("1a", "GET /v1/admin/reports with the admin's own token (control)", a, a.status == http.StatusOK, "200")
	now := time.Now()
	for i, s := range []struct{ label, secret string }{{"the committed secret", committedSecret}, {"a random secret", randomHex(32)}} {
		for j, t := range []struct {
			id        uint64
			role, how string
		}{{p.admin.id, "admin", "GET /v1/admin/reports"}, {u.id, "user", "GET /v1/me/symptoms"}} {
			id := fmt.Sprintf("1%c", 'b'+2*i+j)
			tok, err := mintToken([]byte(s.secret), p.o.issuer, t.id, t.role, now)
			if err != nil {
				p.setupFailed(id, err)
				continue
			}
			path := strings.TrimPrefix(t.how, "GET ")
			a := p.c.do(ctx, http.MethodGet, path, tok, nil)
			p.check(id, fmt.Sprintf("%s with a token of user %d (%s) signed with %s", t.how, t.id, t.role, s.label),
				a, a.status == http.StatusUnauthorized, "401")
		}
	}
	if p.o.serveBinary != "" {
		p.record(serveRefusesSecret(ctx, p.o.serveBinary, committedSecret))
	}
}

// ---------------------------------------------------------------- 2. autocomplete poisoning

// finding2 searches six times from one client (one account, one address)
// for an odd query and for one holding a URL, waits until the searches show
// in the editors' insights and then -popular-wait (longer than
// insights.popular_refresh), and asks suggest for their prefix: neither may
// be suggested.
func (p *probe) finding2(ctx context.Context) {
	u, err := p.newUser(ctx, "2")
	if err != nil {
		p.setupFailed("2", err)
		return
	}
	mark := "zq" + p.run
	odd := "천식 " + mark + " 오염 테스트"
	withURL := "천식 " + mark + "u scam.pentest.example"
	for _, q := range []string{odd, withURL} {
		for range 6 {
			a := p.c.do(ctx, http.MethodGet, "/v1/search?q="+url.QueryEscape(q), u.token, nil)
			if a.status != http.StatusOK {
				p.setupFailed("2", fmt.Errorf("GET /v1/search?q=%s → %s", q, a))
				return
			}
		}
	}
	seen, last := p.waitInsights(ctx, mark)
	p.check("2a", fmt.Sprintf("GET /v1/editor/search-insights shows the 6 searches within %s (control)", p.o.recordWait),
		last, seen, "the query in the report")
	if err := sleep(ctx, p.o.popularWait); err != nil {
		p.setupFailed("2", err)
		return
	}
	prefix := "천식 " + mark[:5]
	path := "/v1/search/suggest?q=" + url.QueryEscape(prefix)
	a := p.c.do(ctx, http.MethodGet, path, "", nil)
	for _, c := range []struct{ id, query, needle string }{{"2b", odd, mark + " "}, {"2c", withURL, "scam.pentest"}} {
		r := result{id: c.id, what: fmt.Sprintf("GET /v1/search/suggest?q=%s %s later, for anyone: no %q", prefix, p.o.popularWait, c.query),
			got: a.String(), want: "200 without it", ok: a.status == http.StatusOK && !a.mentions(c.needle)}
		if a.mentions(c.needle) {
			r.got += " suggesting it"
		}
		p.record(r)
	}
}

// waitInsights polls the editors' report until it mentions mark.
func (p *probe) waitInsights(ctx context.Context, mark string) (bool, answer) {
	deadline := time.Now().Add(p.o.recordWait)
	for {
		a := p.c.do(ctx, http.MethodGet, "/v1/editor/search-insights?size=100", p.admin.token, nil)
		if a.status == http.StatusOK && a.mentions(mark) {
			return true, a
		}
		if time.Now().After(deadline) || sleep(ctx, time.Second) != nil {
			return false, a
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ---------------------------------------------------------------- 3. 500s and broken answers on bad dates

// finding3 sends the dates, ranges and cursors that answered 500 or an
// empty 200: each must be a 400 in the envelope.
func (p *probe) finding3(ctx context.Context) {
	u, err := p.newUser(ctx, "3")
	if err != nil {
		p.setupFailed("3", err)
		return
	}
	cases := []struct{ id, path string }{
		{"3a", "/v1/me/symptoms?from=0000-01-01&to=0000-01-02"},
		{"3b", "/v1/me/peak-flows?from=0000-01-01&to=0000-01-02"},
		{"3c", "/v1/me/act-results?from=0000-01-01&to=0000-01-02"},
		{"3d", "/v1/me/intakes?from=0000-01-01&to=0000-01-02"},
		{"3e", "/v1/me/health-events?to=9999-12-31"},
		{"3f", "/v1/me/health-events?from=0000-01-01&to=0000-01-02"},
		// A hand-made cursor carries its own range: five years, past the 400-day limit.
		{"3g", "/v1/me/symptoms?cursor=" + cursor(`{"k":"symptoms","f":"2021-01-01T00:00:00Z","t":"2026-01-01T00:00:00Z","a":"2021-06-01T00:00:00Z","i":1}`)},
		{"3h", "/v1/me/symptoms?cursor=" + cursor(`{"k":"symptoms","f":"0001-01-01T00:00:00Z","t":"0001-01-02T00:00:00Z","a":"0001-01-01T12:00:00Z","i":1}`)},
		{"3i", "/v1/me/health-events?cursor=" + cursor(`{"k":"health-events","f":"9999-12-01T00:00:00Z","t":"9999-12-31T00:00:00Z","a":"9999-12-02","i":1}`)},
		{"3j", "/v1/me/intakes?cursor=" + cursor(`{"k":"intakes","f":"2021-01-01T00:00:00Z","t":"2026-01-01T00:00:00Z","a":"2021-06-01T00:00:00Z","i":1}`)},
	}
	for _, c := range cases {
		a := p.c.do(ctx, http.MethodGet, c.path, u.token, nil)
		p.check(c.id, "GET "+c.path, a, refused(a), "400 in the envelope")
	}
	path := "/v1/editor/contents?cursor=" + cursor(`{"u":`+strconv.FormatInt(math.MaxInt64, 10)+`,"i":1}`)
	a := p.c.do(ctx, http.MethodGet, path, p.admin.token, nil)
	p.check("3k", "GET "+path+" (time = max int64)", a, refused(a), "400 in the envelope")
	ok := "/v1/me/symptoms?from=2024-03-01&to=2024-03-31"
	a = p.c.do(ctx, http.MethodGet, ok, u.token, nil)
	p.check("3l", "GET "+ok+" (control)", a, a.status == http.StatusOK, "200")
}

// cursor encodes a hand-made cursor the way web.EncodeCursor does.
func cursor(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }

// ---------------------------------------------------------------- 4. look-alike nicknames

// finding4 signs up with look-alikes of existing nicknames (an invisible
// Hangul filler, a right-to-left override, Cyrillic letters) and posts
// with them: each must be refused (400) or collide (409).
func (p *probe) finding4(ctx context.Context) {
	latin := "poca" + randomLetters("aceopx", 6)
	if _, err := p.c.signUp(ctx, p.email("4o"), "pw-"+randomHex(12), latin); err != nil {
		p.setupFailed("4", err)
		return
	}
	cases := []struct{ id, nick, label string }{
		{"4a", p.admin.nickname + "\u3164", "the admin's nickname + U+3164"},
		{"4b", "\u202e" + p.admin.nickname, "U+202E + the admin's nickname"},
		{"4c", cyrillic(latin), fmt.Sprintf("%q in Cyrillic look-alikes of %q", cyrillic(latin), latin)},
		// MySQL's nickname collation ignores U+3164 and U+202E, so 4a and 4b may
		// collide there; a new nickname holding them must be refused by the text rule.
		{"4d", "새이름" + p.run + "\u3164", "a new nickname + U+3164"},
		{"4e", "새이름\u202e" + p.run, "a new nickname holding U+202E"},
	}
	for i, c := range cases {
		body := map[string]string{"email": p.email(fmt.Sprintf("4%d", i)), "password": "pw-" + randomHex(12), "nickname": c.nick}
		a := p.c.do(ctx, http.MethodPost, "/v1/auth/signup", "", body)
		ok, want := refused(a), "400 in the envelope"
		if c.id < "4d" {
			ok, want = ok || (a.status == http.StatusConflict && a.code == "nickname_taken"), "400, or 409 nickname_taken"
		}
		p.check(c.id, "POST /v1/auth/signup with nickname "+c.label, a, ok, want)
	}
	u, err := p.newUser(ctx, "4")
	if err != nil {
		p.setupFailed("4", err)
		return
	}
	posts := []struct{ id, title, body, label string }{
		{"4f", "공지\u202e사항", "본문", "a title holding U+202E"},
		{"4g", "제목", "본문\u3164", "a body holding U+3164"},
	}
	for _, c := range posts {
		a := p.c.do(ctx, http.MethodPost, "/v1/posts", u.token, map[string]string{"category": "자유", "title": c.title, "body": c.body})
		p.check(c.id, "POST /v1/posts with "+c.label, a, refused(a), "400 in the envelope")
	}
}

// cyrillic writes s's Latin a c e o p x with their Cyrillic look-alikes.
func cyrillic(s string) string {
	return strings.NewReplacer("a", "\u0430", "c", "\u0441", "e", "\u0435", "o", "\u043e", "p", "\u0440", "x", "\u0445").Replace(s)
}

// ---------------------------------------------------------------- 5. hidden posts revealed by status code

// finding5 hides a post through the admin API and sends every verb on it
// (and on its comment) as another user: each must answer as a missing post
// does (404), never 403.
func (p *probe) finding5(ctx context.Context) {
	author, err := p.newUser(ctx, "5a")
	if err != nil {
		p.setupFailed("5", err)
		return
	}
	other, err := p.newUser(ctx, "5b")
	if err != nil {
		p.setupFailed("5", err)
		return
	}
	postID, err := p.createPost(ctx, author, "숨김 확인 "+p.run)
	if err != nil {
		p.setupFailed("5", err)
		return
	}
	post := "/v1/posts/" + strconv.FormatUint(postID, 10)
	a := p.c.do(ctx, http.MethodPost, post+"/comments", author.token, map[string]string{"body": "댓글"})
	var comment struct {
		ID uint64 `json:"id"`
	}
	if err := a.decode(&comment); err != nil || a.status != http.StatusCreated || comment.ID == 0 {
		p.setupFailed("5", fmt.Errorf("POST %s/comments → %s", post, a))
		return
	}
	a = p.c.do(ctx, http.MethodPost, "/v1/admin/reports/"+strconv.FormatUint(postID, 10)+"/confirm", p.admin.token, nil)
	if a.status != http.StatusOK {
		p.setupFailed("5", fmt.Errorf("hiding the post: POST /v1/admin/reports/{id}/confirm → %s", a))
		return
	}
	missing := p.c.do(ctx, http.MethodPatch, "/v1/posts/999999999999", other.token, map[string]string{"title": "x"})
	cases := []struct {
		id, method, path string
		body             any
	}{
		{"5a", http.MethodGet, post, nil},
		{"5b", http.MethodPatch, post, map[string]string{"title": "x"}},
		{"5c", http.MethodDelete, post, nil},
		{"5d", http.MethodDelete, post + "/comments/" + strconv.FormatUint(comment.ID, 10), nil},
		{"5e", http.MethodGet, post + "/comments", nil},
		{"5f", http.MethodPost, post + "/comments", map[string]string{"body": "댓글"}},
		{"5g", http.MethodPut, post + "/like", nil},
		{"5h", http.MethodPost, post + "/reports", map[string]string{"reason": "spam"}},
	}
	want := "404 " + missing.code + ", as a missing post"
	for _, c := range cases {
		a := p.c.do(ctx, c.method, c.path, other.token, c.body)
		ok := a.status == http.StatusNotFound && a.code == missing.code
		p.check(c.id, c.method+" "+strings.Replace(c.path, post, "/v1/posts/{hidden}", 1)+" by a non-author", a, ok, want)
	}
}

// createPost creates a post by u and returns its id.
func (p *probe) createPost(ctx context.Context, u user, title string) (uint64, error) {
	a := p.c.do(ctx, http.MethodPost, "/v1/posts", u.token, map[string]string{"category": "자유", "title": title, "body": "프로브가 쓴 글"})
	var post struct {
		ID uint64 `json:"id"`
	}
	if err := a.decode(&post); err != nil || a.status != http.StatusCreated || post.ID == 0 {
		return 0, fmt.Errorf("POST /v1/posts → %s", a)
	}
	return post.ID, nil
}

// ---------------------------------------------------------------- 6. care text fields and passwords

// finding6 writes NUL, invalid UTF-8 and a bidi override into care text
// fields, and signs up with a password of eight NULs and one equal to the
// e-mail: each must be refused (400).
func (p *probe) finding6(ctx context.Context) {
	u, err := p.newUser(ctx, "6")
	if err != nil {
		p.setupFailed("6", err)
		return
	}
	at := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	day := time.Now().Add(-48 * time.Hour).Format(time.DateOnly)
	symptom := func(memo string) rawJSON {
		return rawJSON(`{"recorded_at":"` + at + `","severity":1,"memo":"` + memo + `"}`)
	}
	medication := func(name string) rawJSON {
		return rawJSON(`{"name":"` + name + `","role":"reliever","form":"inhaler","dose":1,"dose_unit":"puff"}`)
	}
	cases := []struct {
		id, path, label string
		body            rawJSON
		valid           bool
	}{
		{"6a", "/v1/me/symptoms", "memo holding NUL (\\u0000)", symptom(`기침\u0000`), false},
		{"6b", "/v1/me/symptoms", "memo holding the byte 0xFF", symptom("기침\xff"), false},
		{"6c", "/v1/me/health-events", "memo holding U+202E", rawJSON(`{"kind":"er_visit","start_date":"` + day + `","memo":"응급실\u202e"}`), false},
		{"6d", "/v1/me/medications", "name holding NUL (\\u0000)", medication(`벤토린\u0000`), false},
		{"6e", "/v1/me/medications", "name holding the byte 0xFF", medication("벤토린\xff"), false},
		{"6f", "/v1/me/symptoms", "a plain memo (control)", symptom("기침"), true},
		{"6g", "/v1/me/medications", "a plain name (control)", medication("벤토린"), true},
	}
	for _, c := range cases {
		a := p.c.do(ctx, http.MethodPost, c.path, u.token, c.body)
		if c.valid {
			p.check(c.id, "POST "+c.path+" with "+c.label, a, a.status == http.StatusCreated, "201")
			continue
		}
		p.check(c.id, "POST "+c.path+" with "+c.label, a, refused(a), "400 in the envelope")
	}
	pw := []struct{ id, password, label string }{
		{"6h", strings.Repeat("\x00", 8), "eight NUL bytes"},
		{"6i", p.email("6i"), "the e-mail itself"},
	}
	for _, c := range pw {
		email := p.email(c.id)
		a := p.c.do(ctx, http.MethodPost, "/v1/auth/signup", "", map[string]string{"email": email, "password": c.password, "nickname": "프로브" + p.run + c.id})
		p.check(c.id, "POST /v1/auth/signup with the password "+c.label, a, refused(a), "400 in the envelope")
	}
}

// ---------------------------------------------------------------- 7. sign-up enumeration

// sweepBound is how many sign-ups with registered e-mails one client may
// send before the answers must stop telling (auth.DefaultTakenPerIP is 5).
const sweepBound = 20

// finding7 checks SECURITY.md's choice against sign-up enumeration.
//
// "throttle" (the choice of issue #26): sign-up answers 409 email_taken,
// but a client gets a bounded number of those per window; then its
// sign-ups, with a registered e-mail or a new one, answer 429
// signup_throttled. The contract server runs with the sign-up throttle
// off, so with -serve-binary the sweep goes to a second serve on the same
// database with the throttle on.
//
// "generic": a registered e-mail's sign-up answers as a new one's (status
// and code), never 409 email_taken.
func (p *probe) finding7(ctx context.Context) {
	u, err := p.newUser(ctx, "7")
	if err != nil {
		p.setupFailed("7", err)
		return
	}
	body := func(email, tag string) map[string]string {
		return map[string]string{"email": email, "password": "pw-" + randomHex(12), "nickname": "프로브" + p.run + tag}
	}
	if p.o.enumeration == "generic" {
		dup := p.c.do(ctx, http.MethodPost, "/v1/auth/signup", "", body(u.email, "7d"))
		p.check("7a", "POST /v1/auth/signup with a registered e-mail", dup,
			dup.err == nil && dup.status < 500 && dup.code != "email_taken", "no email_taken")
		fresh := p.c.do(ctx, http.MethodPost, "/v1/auth/signup", "", body(p.email("7n"), "7n"))
		p.record(result{id: "7b", what: "the same sign-up with a new e-mail answers alike",
			got: fmt.Sprintf("%s vs %s", dup, fresh), want: "the same status and code",
			ok: fresh.err == nil && dup.status == fresh.status && dup.code == fresh.code})
		return
	}
	c, where := p.c, ""
	if p.o.serveBinary != "" {
		base, stop, err := startServe(ctx, p.o.serveBinary, map[string]string{"SOOMCARE_AUTH_SIGNUP_THROTTLE_PER_IP": "1000"})
		if err != nil {
			p.setupFailed("7", err)
			return
		}
		defer stop()
		c, where = &client{base: base, hc: p.c.hc}, " (a second serve, sign-up throttle on)"
	}
	taken, last := 0, answer{}
	for i := range sweepBound + 1 {
		last = c.do(ctx, http.MethodPost, "/v1/auth/signup", "", body(u.email, fmt.Sprintf("7s%d", i)))
		if last.status != http.StatusConflict || last.code != "email_taken" {
			break
		}
		taken++
	}
	got := fmt.Sprintf("%d× 409 email_taken, then %s", taken, last)
	if taken > sweepBound {
		got = fmt.Sprintf("%d× 409 email_taken, never 429", taken)
	}
	p.record(result{id: "7a", what: fmt.Sprintf("POST /v1/auth/signup with a registered e-mail, again and again%s", where),
		got: got, want: fmt.Sprintf("429 signup_throttled within %d", sweepBound), ok: throttled(last)})
	fresh := c.do(ctx, http.MethodPost, "/v1/auth/signup", "", body(p.email("7n"), "7n"))
	p.check("7b", "POST /v1/auth/signup with a new e-mail from the same client after that"+where, fresh, throttled(fresh),
		"429 signup_throttled, as a registered one")
}

func throttled(a answer) bool {
	return a.status == http.StatusTooManyRequests && a.code == "signup_throttled"
}

// ---------------------------------------------------------------- 8. the like count after the lock

// likeRounds is how many posts take ten concurrent likes.
const likeRounds = 3

// finding8 has ten users like a post at once, on likeRounds posts: every
// answer must count at least its own like, and the post ten.
func (p *probe) finding8(ctx context.Context) {
	users := make([]user, 10)
	for i := range users {
		u, err := p.newUser(ctx, fmt.Sprintf("8%d", i))
		if err != nil {
			p.setupFailed("8", err)
			return
		}
		users[i] = u
	}
	minCount, maxStored, minStored, bad := math.MaxInt, 0, math.MaxInt, ""
	for r := range likeRounds {
		id, err := p.createPost(ctx, users[0], fmt.Sprintf("좋아요 %s %d", p.run, r))
		if err != nil {
			p.setupFailed("8", err)
			return
		}
		counts, err := p.likeAtOnce(ctx, id, users)
		if err != nil && bad == "" {
			bad = err.Error()
		}
		for _, n := range counts {
			minCount = min(minCount, n)
		}
		stored, err := p.likeCount(ctx, id, users[0])
		if err != nil {
			p.setupFailed("8", err)
			return
		}
		minStored, maxStored = min(minStored, stored), max(maxStored, stored)
	}
	got := fmt.Sprintf("smallest like_count answered %d", minCount)
	if bad != "" {
		got = bad
	}
	p.record(result{id: "8a", what: fmt.Sprintf("PUT /v1/posts/{id}/like by 10 users at once, on %d posts", likeRounds),
		got: got, want: "every answer 200 with like_count ≥ 1", ok: bad == "" && minCount >= 1})
	p.record(result{id: "8b", what: "GET /v1/posts/{id} after them",
		got: fmt.Sprintf("like_count %d…%d", minStored, maxStored), want: "10", ok: minStored == 10 && maxStored == 10})
}

// likeAtOnce sends one like per user at the same moment and returns the
// like_count of each answer.
func (p *probe) likeAtOnce(ctx context.Context, postID uint64, users []user) ([]int, error) {
	path := "/v1/posts/" + strconv.FormatUint(postID, 10) + "/like"
	counts := make([]int, len(users))
	errs := make([]error, len(users))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Go(func() {
			<-start
			a := p.c.do(ctx, http.MethodPut, path, u.token, nil)
			var like struct {
				LikeCount *int `json:"like_count"`
			}
			if err := a.decode(&like); err != nil || a.status != http.StatusOK || like.LikeCount == nil {
				errs[i] = fmt.Errorf("PUT /v1/posts/{id}/like → %s", a)
				return
			}
			counts[i] = *like.LikeCount
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return counts, err // the first is enough to show
		}
	}
	return counts, nil
}

// likeCount is the post's stored like_count as GET answers it.
func (p *probe) likeCount(ctx context.Context, postID uint64, u user) (int, error) {
	a := p.c.do(ctx, http.MethodGet, "/v1/posts/"+strconv.FormatUint(postID, 10), u.token, nil)
	var post struct {
		LikeCount int `json:"like_count"`
	}
	if err := a.decode(&post); err != nil || a.status != http.StatusOK {
		return 0, fmt.Errorf("GET /v1/posts/{id} → %s", a)
	}
	return post.LikeCount, nil
}

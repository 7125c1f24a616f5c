package auth_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soomcare/soomcare/auth"
)

// signUpWith posts a sign-up with a password and returns status and body.
func (e *env) signUpWith(email, password, nickname string) (int, map[string]any) {
	e.t.Helper()
	return e.do("POST", "/v1/auth/signup", "", map[string]string{"email": email, "password": password, "nickname": nickname})
}

// fieldCode is the code of the first field error on field.
func fieldCode(body map[string]any, field string) string {
	list, _ := body["fields"].([]any)
	for _, f := range list {
		m, _ := f.(map[string]any)
		if m["field"] == field {
			s, _ := m["code"].(string)
			return s
		}
	}
	return ""
}

// TestSignUpRefusesWeakPasswords: NIST SP 800-63B §3.1.1.2. Issue #26
// finding 6: eight NUL bytes and a password equal to the e-mail were
// accepted.
func TestSignUpRefusesWeakPasswords(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, email, password, nickname, code string
	}{
		{"eight NUL bytes", "nul@example.com", strings.Repeat("\x00", 8), "널바이트", "invalid"},
		{"a control character", "ctl@example.com", "천식관리\x1b1234", "제어문자", "invalid"},
		{"the e-mail itself", "minji.kim@example.com", "minji.kim@example.com", "민지킴", auth.FieldWeakPassword},
		{"the e-mail's local part in other case", "minji.kim@example.com", "MINJI.KIM2026", "민지킴", auth.FieldWeakPassword},
		{"the nickname", "soom@example.com", "숨쉬는고래2026", "숨쉬는고래", auth.FieldWeakPassword},
		{"the nickname in other case", "whale@example.com", "xxBigWhalexx", "bigwhale", auth.FieldWeakPassword},
		{"one character repeated", "rep@example.com", "aaaaaaaaaaaa", "반복", auth.FieldWeakPassword},
		{"one Hangul syllable repeated", "rep2@example.com", "숨숨숨숨숨숨숨숨", "반복둘", auth.FieldWeakPassword},
		{"a common password", "common@example.com", "password1", "흔한비번", auth.FieldWeakPassword},
		{"a common password in capitals", "common2@example.com", "QWERTY123", "흔한비번둘", auth.FieldWeakPassword},
		{"a common password, long", "common3@example.com", "1q2w3e4r5t", "흔한비번셋", auth.FieldWeakPassword},
		{"too short", "short@example.com", "a1b2c3", "짧은비번", "too_short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, body := e.signUpWith(tt.email, tt.password, tt.nickname)
			if st != 400 || code(body) != "validation_failed" || fieldCode(body, "password") != tt.code {
				t.Errorf("%d %v, want 400 with password %s", st, body, tt.code)
			}
		})
	}
	// A short e-mail local part or nickname (< 3 characters) is not looked for:
	// "ab" would forbid half the passwords there are.
	for _, ok := range []struct{ email, password, nickname string }{
		{"ab@example.com", "ab-천식일지-2026", "가나"},
		{"minji@example.com", "숨쉬기편한밤99", "민지"},
		{"long@example.com", "correct horse battery staple", "말과배터리"},
	} {
		if st, body := e.signUpWith(ok.email, ok.password, ok.nickname); st != 201 {
			t.Errorf("%q: %d %v, want 201", ok.password, st, body)
		}
	}
	p, err := auth.NewPasswordPolicy()
	if err != nil || p.CommonCount() < 10000 {
		t.Errorf("common-password list: %v entries, err %v; want at least 10,000", p.CommonCount(), err)
	}
}

// TestLookalikeNicknamesCollide: nicknames are unique by their TR39
// confusable skeleton (auth.NicknameKey, users.nickname_key), so a
// look-alike of the admin's nickname is refused (issue #26 finding 4: the
// admin's nickname + U+3164 or with U+202E was accepted as new).
func TestLookalikeNicknamesCollide(t *testing.T) {
	e := newEnv(t)
	for i, nick := range []string{"숨케어관리자", "SoomAdmin"} {
		if st, body := e.signUpWith(fmt.Sprintf("admin%d@example.com", i), "천식관리1234", nick); st != 201 {
			t.Fatalf("admin %q: %d %v", nick, st, body)
		}
	}
	if _, err := e.db.Exec(`UPDATE users SET role = 'admin'`); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, nickname string
		status         int
		code           string
	}{
		{"+ U+3164 Hangul filler", "숨케어관리자\u3164", 400, "validation_failed"},
		{"+ U+115F Hangul choseong filler", "숨케어관리자\u115f", 400, "validation_failed"},
		{"U+202E right-to-left override", "\u202e자리관어케숨", 400, "validation_failed"},
		{"zero-width space inside", "숨케어\u200b관리자", 400, "validation_failed"},
		{"Cyrillic о and А", "S\u043e\u043em\u0410dmin", 409, "nickname_taken"},
		{"Cyrillic Ѕ", "\u0405oomAdmin", 409, "nickname_taken"},
		{"lower case", "soomadmin", 409, "nickname_taken"},
		{"upper case", "SOOMADMIN", 409, "nickname_taken"},
		{"digit zero for o", "S00mAdmin", 409, "nickname_taken"},
		{"full-width letters", "ＳｏｏｍＡｄｍｉｎ", 409, "nickname_taken"},
		{"rn for m", "SoornAdrnin", 409, "nickname_taken"},
		{"compatibility jamo for the last syllable's parts", "숨케어관리ㅈㅏ", 409, "nickname_taken"},
		{"another nickname", "숨케어회원", 201, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, body := e.signUpWith(fmt.Sprintf("look%d@example.com", i), "천식관리1234", tt.nickname)
			if st != tt.status || code(body) != tt.code {
				t.Errorf("%q: %d %v, want %d %s", tt.nickname, st, body, tt.status, tt.code)
			}
		})
	}
	var n int
	e.db.QueryRow(`SELECT COUNT(*) FROM users`).Scan(&n)
	if n != 3 {
		t.Errorf("%d users, want 3 (two admins and one new member)", n)
	}
}

// TestConcurrentLookalikeSignUpsCollide: the unique key decides, so two
// look-alikes signing up at once cannot both get in.
func TestConcurrentLookalikeSignUpsCollide(t *testing.T) {
	e := newEnv(t)
	nicks := []string{"kimchi", "k\u0456mchi", "KIMCHI", "kimch\u0456", "ｋｉｍｃｈｉ", "klmchi"}
	statuses := make([]int, len(nicks))
	var wg sync.WaitGroup
	for i, nick := range nicks {
		wg.Go(func() {
			b, _ := json.Marshal(map[string]string{"email": fmt.Sprintf("k%d@example.com", i), "password": "천식관리1234", "nickname": nick})
			req := httptest.NewRequest("POST", "/v1/auth/signup", bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, req)
			statuses[i] = rec.Code
		})
	}
	wg.Wait()
	created := 0
	for i, st := range statuses {
		switch st {
		case 201:
			created++
		case 409:
		default:
			t.Errorf("%q: %d", nicks[i], st)
		}
	}
	// "klmchi" is its own skeleton (l is not i in TR39), so two get in.
	if created != 2 {
		t.Errorf("%d sign-ups created, want 2 (one of the five look-alikes, and klmchi): %v", created, statuses)
	}
}

// TestBackfillNicknameKeys: rows written without a key (before migration
// 00046, or by tools) get one; a row that looks like an older user's keeps
// none and is reported, and the older user's nickname is protected.
func TestBackfillNicknameKeys(t *testing.T) {
	e := newEnv(t)
	for _, nick := range []string{"관리자", "관리자\u3164", "Admin", "\u0430dmin", "숨쉬는고래"} {
		if _, err := e.db.Exec(`INSERT INTO users (nickname) VALUES (?)`, nick); err != nil {
			t.Fatal(err)
		}
	}
	got, err := auth.BackfillNicknameKeys(t.Context(), e.db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Filled != 3 || len(got.Colliding) != 2 || got.Colliding[0] != 2 || got.Colliding[1] != 4 {
		t.Errorf("backfill = %+v, want 3 filled and users 2 and 4 colliding", got)
	}
	again, err := auth.BackfillNicknameKeys(t.Context(), e.db, nil)
	if err != nil || again.Filled != 0 || len(again.Colliding) != 2 {
		t.Errorf("second run = %+v, %v: want nothing filled, the same two reported", again, err)
	}
	if st, body := e.signUpWith("new@example.com", "천식관리1234", "ADMIN"); st != 409 || code(body) != "nickname_taken" {
		t.Errorf("look-alike of a backfilled user: %d %v", st, body)
	}
}

// TestSignupEnumerationBounded: sign-up still answers 409 email_taken (no
// e-mail verification to hide behind), but at most TakenPerIP times per
// client address and TakenOverall times overall in the window; past that,
// 429 signup_throttled for that client (or everyone) whatever the address,
// so a sweep learns at most that many answers (issue #26 finding 7).
func TestSignupEnumerationBounded(t *testing.T) {
	e := newEnv(t, func(o *auth.ServiceOptions, _ *auth.APIOptions) {
		o.SignupThrottle = auth.SignupThrottleConfig{PerIP: 100, Window: time.Hour, TakenPerIP: 3, TakenOverall: 5}
	})
	for i := range 4 {
		if st, body, _ := e.signUpFrom("203.0.113.1", fmt.Sprintf("member%d@example.com", i), fmt.Sprintf("회원%d", i)); st != 201 {
			t.Fatalf("member %d: %d %v", i, st, body)
		}
	}
	sweeper := "198.51.100.66"
	for i := range 3 {
		if st, body, _ := e.signUpFrom(sweeper, fmt.Sprintf("member%d@example.com", i), fmt.Sprintf("스윕%d", i)); st != 409 || code(body) != "email_taken" {
			t.Fatalf("probe %d: %d %v, want 409 email_taken (within the limit)", i, st, body)
		}
	}
	for _, email := range []string{"member3@example.com", "nobody@example.com"} {
		st, body, ra := e.signUpFrom(sweeper, email, "스윕다음")
		if st != 429 || code(body) != "signup_throttled" || ra == "" {
			t.Errorf("past the client's limit, %s: %d %v (Retry-After %q), want 429 signup_throttled either way", email, st, body, ra)
		}
	}
	// A second address takes the overall count to its limit (5) ...
	for i := range 2 {
		if st, body, _ := e.signUpFrom("192.0.2.77", fmt.Sprintf("member%d@example.com", i), fmt.Sprintf("둘째%d", i)); st != 409 {
			t.Fatalf("second sweeper %d: %d %v", i, st, body)
		}
	}
	// ... and then every address is answered 429, taken or not.
	if st, body, _ := e.signUpFrom("203.0.113.200", "fresh@example.com", "새회원"); st != 429 || code(body) != "signup_throttled" {
		t.Errorf("during a sweep, a new address: %d %v, want 429", st, body)
	}
	e.now = e.now.Add(time.Hour)
	if st, body, _ := e.signUpFrom(sweeper, "after@example.com", "한시간뒤"); st != 201 {
		t.Errorf("after the window: %d %v", st, body)
	}
}

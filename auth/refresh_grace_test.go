package auth_test

import (
	"bytes"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/soomcare/soomcare/auth"
)

func withGrace(d time.Duration) func(*auth.ServiceOptions, *auth.APIOptions) {
	return func(o *auth.ServiceOptions, _ *auth.APIOptions) { o.RefreshGrace = d }
}

// refreshAll sends n refreshes with the same token at once, half of them to a
// second `serve` instance, and returns each answer with its status.
func (e *env) refreshAll(token string, n int) []map[string]any {
	e.t.Helper()
	hs := []http.Handler{e.h, e.instance()}
	out := make([]map[string]any, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, body := e.doOn(hs[i%2], "POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": token})
			if body == nil {
				body = map[string]any{}
			}
			body["status"] = st
			out[i] = body
		}()
	}
	wg.Wait()
	return out
}

func (e *env) familyRevoked(token string) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRow(`SELECT COUNT(*) FROM refresh_tokens f JOIN refresh_tokens t ON t.family_id = f.family_id
		WHERE t.token_hash = UNHEX(SHA2(?, 256)) AND f.revoked_at IS NOT NULL`, token).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// Two refreshes in flight with the same token: with the grace both succeed
// with the same successor and the session lives on; without it (the old
// behaviour) the second one revokes the session.
func TestRefreshConcurrentWithinGrace(t *testing.T) {
	tests := []struct {
		name  string
		grace time.Duration
	}{
		{"grace 20s", 20 * time.Second},
		{"grace off", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, withGrace(tt.grace))
			_, body := e.do("POST", "/v1/auth/signup", "", map[string]any{"email": "minji@example.com", "password": "천식관리1234", "nickname": "민지"})
			r1 := body["refresh_token"].(string)

			answers := e.refreshAll(r1, 6)
			successors := map[string]bool{}
			ok := 0
			for _, a := range answers {
				if a["status"] == 200 {
					ok++
					successors[a["refresh_token"].(string)] = true
					if a["access_token"] == "" || a["user"].(map[string]any)["nickname"] != "민지" {
						t.Errorf("answer %v", a)
					}
				}
			}
			if tt.grace == 0 {
				if ok == len(answers) || e.familyRevoked(r1) == 0 {
					t.Fatalf("without a grace the second refresh must be reuse: %d of %d succeeded, %d revoked", ok, len(answers), e.familyRevoked(r1))
				}
				return
			}
			if ok != len(answers) || len(successors) != 1 {
				t.Fatalf("%d of %d refreshes succeeded with %d different successors, want all with one: %v", ok, len(answers), len(successors), answers)
			}
			if n := e.familyRevoked(r1); n != 0 {
				t.Fatalf("%d tokens revoked", n)
			}
			var rows int
			e.db.QueryRow(`SELECT COUNT(*) FROM refresh_tokens`).Scan(&rows)
			if rows != 2 {
				t.Errorf("%d refresh tokens stored, want 2 (one rotation)", rows)
			}
			var r2 string
			for s := range successors {
				r2 = s
			}
			var sealed []byte
			e.db.QueryRow(`SELECT sealed_token FROM refresh_token_successors`).Scan(&sealed)
			if len(sealed) == 0 || bytes.Contains(sealed, []byte(r2)) {
				t.Errorf("successor must be stored sealed: %q", sealed)
			}
			if st, body := e.do("POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": r2}); st != 200 {
				t.Fatalf("the shared successor must work: %d %v", st, body)
			}
		})
	}
}

// The grace covers only its window and only an unused successor.
func TestRefreshGraceLimits(t *testing.T) {
	e := newEnv(t, withGrace(20*time.Second))
	_, body := e.do("POST", "/v1/auth/signup", "", map[string]any{"email": "minji@example.com", "password": "천식관리1234", "nickname": "민지"})
	r1 := body["refresh_token"].(string)
	refresh := func(tok string) (int, map[string]any) {
		return e.do("POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": tok})
	}
	start := e.now

	_, body = refresh(r1)
	r2 := body["refresh_token"].(string)
	e.now = start.Add(20 * time.Second) // the grace's last instant
	if st, body := refresh(r1); st != 200 || body["refresh_token"] != r2 {
		t.Fatalf("within the grace: %d %v, want the same successor", st, body)
	}

	// r2 is used; a late r1 (still within its grace) finds a used successor:
	// token_invalid, and the session (r3) is left alone.
	_, body = refresh(r2)
	r3 := body["refresh_token"].(string)
	if st, body := refresh(r1); st != 401 || code(body) != "token_invalid" {
		t.Fatalf("late request after the successor moved on: %d %v", st, body)
	}
	if e.familyRevoked(r3) != 0 {
		t.Fatal("a request inside the grace revoked the session")
	}

	// After the grace, a rotated token is reuse again: the family is revoked.
	e.now = start.Add(41 * time.Second) // r2 was rotated at +20s
	if st, body := refresh(r2); st != 401 || code(body) != "refresh_reused" {
		t.Fatalf("after the grace: %d %v, want refresh_reused", st, body)
	}
	if st, body := refresh(r3); st != 401 || code(body) != "token_invalid" {
		t.Fatalf("the family must be revoked after reuse: %d %v", st, body)
	}
	if st, body := refresh(r1); st != 401 || code(body) != "token_invalid" {
		t.Fatalf("revoked family, old token: %d %v", st, body)
	}

	// Logout inside the grace: the rotated token does not bring the session back.
	_, body = e.do("POST", "/v1/auth/login", "", map[string]any{"email": "minji@example.com", "password": "천식관리1234"})
	s1 := body["refresh_token"].(string)
	_, body = refresh(s1)
	s2 := body["refresh_token"].(string)
	if st, _ := e.do("POST", "/v1/auth/logout", "", map[string]any{"refresh_token": s2}); st != 204 {
		t.Fatalf("logout %d", st)
	}
	if st, body := refresh(s1); st != 401 || code(body) != "token_invalid" {
		t.Errorf("rotated token after logout: %d %v", st, body)
	}
}

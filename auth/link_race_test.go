package auth_test

import (
	"fmt"
	"sync"
	"testing"
)

// raceAnswer is one answer of the requests racing for an SNS identity.
type raceAnswer struct {
	user   int // index of the requesting user (-1: an anonymous SNS login)
	status int
	body   map[string]any
}

// race sends one request per entry of users at once, each with its own
// ID token for subject sub: a link by users[i] (an index into access), or
// an SNS login when users[i] is -1.
func (e *env) race(sub string, access []string, users []int) []raceAnswer {
	e.t.Helper()
	tokens := make([]string, len(users))
	for i := range tokens {
		tokens[i] = e.snsToken(sub, e.withNonce(e.nonce()), "")
	}
	out := make([]raceAnswer, len(users))
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if u < 0 {
				st, body := e.do("POST", "/v1/auth/oidc/kakao", "", map[string]any{"id_token": tokens[i]})
				out[i] = raceAnswer{u, st, body}
				return
			}
			st, body := e.do("POST", "/v1/me/identities/kakao", access[u], map[string]any{"id_token": tokens[i]})
			out[i] = raceAnswer{u, st, body}
		}()
	}
	wg.Wait()
	return out
}

// onlyLink returns the user (as the JSON answers carry it) of the one link
// of kakao subject sub; none or several fail the test.
func (e *env) onlyLink(sub string) float64 {
	e.t.Helper()
	var owner float64
	var links int
	err := e.db.QueryRow(`SELECT COALESCE(MIN(user_id), 0), COUNT(*) FROM user_identities WHERE provider = 'kakao' AND subject = ?`, sub).Scan(&owner, &links)
	if err != nil || links != 1 {
		e.t.Fatalf("%s: %d links (%v), want 1", sub, links, err)
	}
	return owner
}

// raceRounds runs five races (race) for fresh subjects; each must end with
// one link, one answer 201, and every answer valid for the link's user.
func (e *env) raceRounds(access []string, users []int, valid func(a raceAnswer, owner float64) bool) {
	e.t.Helper()
	for round := range 5 {
		sub := fmt.Sprintf("kakao-race-%d", round)
		answers := e.race(sub, access, users)
		owner := e.onlyLink(sub)
		created := 0
		for _, a := range answers {
			if a.status == 201 {
				created++
			}
			if !valid(a, owner) {
				e.t.Errorf("round %d: user %d: %d %v (the link's user: %v)", round, a.user, a.status, a.body, owner)
			}
		}
		if created != 1 {
			e.t.Errorf("round %d: %d answers 201, want 1", round, created)
		}
	}
}

// Requests racing to link one SNS identity end with one link and never a
// 500. The locking read of the missing link takes a gap lock, so two of
// them inserting deadlock (1213), and one inserting after another committed
// hits the unique key (1062); both answered 500 before. Now the winner
// answers 201, the same user's other requests 200 (already linked), another
// user's 409 identity_taken.
func TestConcurrentLinkIdentity(t *testing.T) {
	tests := []struct {
		name  string
		users int
	}{
		{"one user", 1},
		{"two users", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			access := make([]string, tt.users)
			ids := make([]float64, tt.users)
			for i := range access {
				st, body := e.do("POST", "/v1/auth/signup", "", map[string]any{
					"email": fmt.Sprintf("link%d@example.com", i), "password": "숨쉬기편한밤99", "nickname": fmt.Sprintf("연결%d", i)})
				if st != 201 {
					t.Fatalf("signup: %d %v", st, body)
				}
				access[i] = body["access_token"].(string)
				ids[i] = body["user"].(map[string]any)["id"].(float64)
			}
			users := make([]int, 8)
			for i := range users {
				users[i] = i % tt.users
			}
			e.raceRounds(access, users, func(a raceAnswer, owner float64) bool {
				mine := ids[a.user] == owner
				return (a.status == 201 || a.status == 200) && mine ||
					a.status == 409 && !mine && code(a.body) == "identity_taken"
			})
		})
	}
}

// First SNS logins of one identity racing each other: one creates the
// user, every other signs into that same user; none answers 500 or 409.
func TestConcurrentFirstSNSLogin(t *testing.T) {
	e := newEnv(t)
	e.raceRounds(nil, []int{-1, -1, -1, -1, -1, -1, -1, -1}, func(a raceAnswer, owner float64) bool {
		u, _ := a.body["user"].(map[string]any)
		return (a.status == 201 || a.status == 200) && u["id"] == owner
	})
}

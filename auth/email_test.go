package auth_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/soomcare/soomcare/auth"
)

func TestCanonicalEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice@x.com", "alice@x.com"},
		{"  ALICE@X.COM ", "alice@x.com"},
		{"alice@X.Com", "alice@x.com"},
		{"alicé@x.com", "alicé@x.com"},            // accents kept: another address
		{"alice\u0301@x.com", "alic\u00e9@x.com"}, // NFD (e + combining acute) folds to NFC
		{"ALICÉ@x.com", "alicé@x.com"},
		{"a.b+tag@x.com", "a.b+tag@x.com"},
		{"민지@예시.한국", "민지@xn--vv4b11d.xn--3e0b707e"},
		{"bob@例え.JP", "bob@xn--r8jz45g.jp"},
		{"bob@xn--r8jz45g.jp", "bob@xn--r8jz45g.jp"},
		{"bob@ｘ.com", "bob@x.com"},
		{"a_b@my_host.COM", "a_b@my_host.com"}, // IDNA refuses '_': lower-cased instead
		{"not-an-email", "not-an-email"},
		{"a@b@X.com", "a@b@x.com"},
	}
	for _, tt := range tests {
		got := auth.CanonicalEmail(tt.in)
		if got != tt.want {
			t.Errorf("CanonicalEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if again := auth.CanonicalEmail(got); again != got {
			t.Errorf("not idempotent: %q → %q → %q", tt.in, got, again)
		}
	}
}

func FuzzCanonicalEmail(f *testing.F) {
	for _, s := range []string{"alice@x.com", "ALICÉ@例え.JP", "e\u0301@x.com", "İ@ß.de", "a@xn--zz.com", " @ ", "ǅ@ǅ.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		c := auth.CanonicalEmail(s)
		if again := auth.CanonicalEmail(c); again != c {
			t.Fatalf("not idempotent: %q → %q → %q", s, c, again)
		}
	})
}

// After 5 failures for alice@x.com, no other spelling gets fresh guesses at
// her account: case variants share her count (429), look-alikes with
// accents are other addresses that never sign into her account (not 200),
// and a separate account with such an address signs into itself only.
// Before canonical e-mails, alicé@x.com and àlice@x.com logged in as alice
// (utf8mb4_unicode_ci) with counts of their own.
func TestLookalikeEmailsShareThrottle(t *testing.T) {
	e := newEnv(t, throttled(5, 0))
	e.signUp("alice@x.com", "앨리스")
	for i := range 5 {
		if st, body, _ := e.login(e.h, "198.51.100.7", "alice@x.com", "wrong-password"); st != 401 {
			t.Fatalf("failure %d: %d %v", i+1, st, body)
		}
	}
	tests := []struct {
		name, email string
		want        []int // acceptable statuses; never 200
	}{
		{"same address", "alice@x.com", []int{429}},
		{"upper case", "ALICE@X.COM", []int{429}},
		{"domain case and blanks", "  alice@X.Com ", []int{429}},
		{"full-width domain", "alice@ｘ.com", []int{429}},
		{"accent", "alicé@x.com", []int{401}},
		{"leading accent", "àlice@x.com", []int{401}},
		{"decomposed accent", "alice\u0301@x.com", []int{401}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, body, _ := e.login(e.h, "198.51.100.7", tt.email, "천식관리1234")
			if !slices.Contains(tt.want, st) {
				t.Errorf("%q with alice's password: %d %v, want %v", tt.email, st, body, tt.want)
			}
		})
	}

	// alicé@x.com is its own address: signing it up makes a separate
	// account, and its password opens that one only.
	st, body := e.do("POST", "/v1/auth/signup", "", map[string]any{"email": "ALICÉ@x.com", "password": "다른비밀번호99", "nickname": "앨리스2"})
	if st != 201 {
		t.Fatalf("sign-up of the look-alike: %d %v", st, body)
	}
	other := body["user"].(map[string]any)
	if other["email"] != "alicé@x.com" {
		t.Errorf("stored e-mail %v, want the canonical alicé@x.com", other["email"])
	}
	st, body, _ = e.login(e.h, "203.0.113.9", "alice\u0301@X.COM", "다른비밀번호99")
	if st != 200 || body["user"].(map[string]any)["id"] != other["id"] {
		t.Errorf("the look-alike's own login: %d %v, want 200 as user %v", st, body, other["id"])
	}
	if st, body := e.do("POST", "/v1/auth/signup", "", map[string]any{"email": "Alice@X.com", "password": "숨쉬기편한밤99", "nickname": "셋째"}); st != 409 || code(body) != "email_taken" {
		t.Errorf("sign-up of alice in another case: %d %v, want 409 email_taken", st, body)
	}
}

// Rows written before canonical e-mails: rewritten when alone, listed (by
// id, never merged or changed) when two would share an address.
func TestCanonicalizeEmails(t *testing.T) {
	e := newEnv(t)
	ins := func(email, nick string) uint64 {
		t.Helper()
		res, err := e.db.Exec(`INSERT INTO users (email, nickname) VALUES (?, ?)`, email, nick)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := res.LastInsertId()
		return uint64(id)
	}
	alice := ins("alice@x.com", "n1")
	aliceUpper := ins("ALICE@x.com", "n2")    // collides with alice
	cafeNFC := ins("café@x.com", "n3")        // canonical already
	cafeNFD := ins("cafe\u0301@x.com", "n4")  // collides with cafeNFC
	bob := ins("bob@例え.jp", "n5")             // alone: rewritten
	carol := ins("Carol@Example.COM", "n6")   // alone: rewritten
	dave1 := ins("dave@xn--r8jz45g.jp", "n7") // canonical already
	dave2 := ins("Dave@例え.jp", "n8")          // collides with dave1
	want := [][]uint64{{alice, aliceUpper}, {cafeNFC, cafeNFD}, {dave1, dave2}}

	rep, err := auth.CanonicalizeEmails(t.Context(), e.db, false)
	if !errors.Is(err, auth.ErrEmailCollision) || len(rep.Rewritten) != 0 || !slices.Equal(sorted(rep.Pending), sorted([]uint64{bob, carol})) {
		t.Fatalf("dry run: %+v %v", rep, err)
	}
	rep, err = auth.CanonicalizeEmails(t.Context(), e.db, true)
	if !errors.Is(err, auth.ErrEmailCollision) || !slices.Equal(sorted(rep.Rewritten), sorted([]uint64{bob, carol})) {
		t.Fatalf("apply: %+v %v", rep, err)
	}
	if !sameGroups(rep.Collisions, want) {
		t.Errorf("collisions %v, want %v", rep.Collisions, want)
	}
	for id, email := range map[uint64]string{alice: "alice@x.com", aliceUpper: "ALICE@x.com", cafeNFD: "cafe\u0301@x.com", dave2: "Dave@例え.jp",
		bob: "bob@xn--r8jz45g.jp", carol: "carol@example.com"} {
		var got string
		e.db.QueryRow(`SELECT email FROM users WHERE id = ?`, id).Scan(&got)
		if got != email {
			t.Errorf("user %d: e-mail %q, want %q", id, got, email)
		}
	}
	if _, err := e.db.Exec(`UPDATE users SET email = NULL WHERE id IN (?, ?, ?)`, aliceUpper, cafeNFD, dave2); err != nil {
		t.Fatal(err)
	}
	if rep, err := auth.CanonicalizeEmails(t.Context(), e.db, true); err != nil || len(rep.Rewritten)+len(rep.Pending)+len(rep.Collisions) != 0 || rep.Checked != 5 {
		t.Errorf("after resolving: %+v %v", rep, err)
	}
}

func sorted(s []uint64) []uint64 { s = slices.Clone(s); slices.Sort(s); return s }

func sameGroups(a, b [][]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for _, g := range b {
		if !slices.ContainsFunc(a, func(x []uint64) bool { return slices.Equal(sorted(x), sorted(g)) }) {
			return false
		}
	}
	return true
}

// A scan whose rows break off mid-page (a lost connection) fails, instead
// of passing for a short last page: the check would otherwise end early and
// report fewer rows as if that were all.
func TestCanonicalizeEmailsFailsOnBrokenScan(t *testing.T) {
	lost := errors.New("connection lost")
	db := sql.OpenDB(brokenRows{rows: [][]driver.Value{{int64(1), "alice@x.com"}}, err: lost})
	defer db.Close()
	rep, err := auth.CanonicalizeEmails(t.Context(), db, false)
	if !errors.Is(err, lost) {
		t.Fatalf("CanonicalizeEmails = %+v, %v; want an error wrapping %v", rep, err, lost)
	}
	if rep.Checked != 0 {
		t.Errorf("report %+v of a failed scan, want nothing checked", rep)
	}
}

// brokenRows is a database/sql connector whose every query answers rows
// and then err.
type brokenRows struct {
	rows [][]driver.Value
	err  error
}

func (b brokenRows) Connect(context.Context) (driver.Conn, error) { return b, nil }
func (b brokenRows) Driver() driver.Driver                        { return nil }
func (b brokenRows) Prepare(string) (driver.Stmt, error)          { return nil, errors.New("not supported") }
func (b brokenRows) Close() error                                 { return nil }
func (b brokenRows) Begin() (driver.Tx, error)                    { return nil, errors.New("not supported") }

func (b brokenRows) QueryContext(context.Context, string, []driver.NamedValue) (driver.Rows, error) {
	return &brokenCursor{rows: b.rows, err: b.err}, nil
}

type brokenCursor struct {
	rows [][]driver.Value
	err  error
}

func (c *brokenCursor) Columns() []string { return []string{"id", "email"} }
func (c *brokenCursor) Close() error      { return nil }

func (c *brokenCursor) Next(dest []driver.Value) error {
	if len(c.rows) == 0 {
		return c.err
	}
	copy(dest, c.rows[0])
	c.rows = c.rows[1:]
	return nil
}

package auth

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/soomcare/soomcare/mysql"
)

// Errors wrapped by *ThrottledError.
var (
	// ErrLoginThrottled: too many failed logins for the account or from the
	// client address.
	ErrLoginThrottled = errors.New("too many failed logins")
	// ErrSignupThrottled: too many sign-ups from the client address.
	ErrSignupThrottled = errors.New("too many sign-ups")
)

// ThrottledError says how long until a throttled login or sign-up may be
// tried again; it wraps ErrLoginThrottled or ErrSignupThrottled.
type ThrottledError struct {
	RetryAfter time.Duration
	kind       error
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v: retry after %s", e.Unwrap(), e.RetryAfter)
}

func (e *ThrottledError) Unwrap() error {
	if e.kind == nil {
		return ErrLoginThrottled
	}
	return e.kind
}

// ThrottleConfig limits failed email/password logins (config
// auth.login_throttle). The zero value turns throttling off.
type ThrottleConfig struct {
	AccountFailures int           // per normalised e-mail in Window; 0: no per-account limit
	IPFailures      int           // per client address (IPv6: /64) in Window; 0: no per-address limit
	Window          time.Duration // fixed window that starts at a subject's first counted failure
}

func (c ThrottleConfig) enabled() bool {
	return c.Window > 0 && (c.AccountFailures > 0 || c.IPFailures > 0)
}

// throttle counts login attempts in MySQL (table login_throttles), so every
// `serve` instance sees the same counts.
//
// An attempt is counted *before* the password is checked (reserve), in the
// same transaction that decides whether it may run: concurrent attempts can
// never run more password checks than the limit, and a refused attempt costs
// one short transaction and no hash. A successful login then clears its
// account's count and gives its address back the attempt (succeeded); a
// failed one leaves the count as it is.
//
// The same table and mechanism count sign-ups per client address (scope
// 'signup', newSignupThrottle): there every attempt counts and nothing is
// given back.
type throttle struct {
	db      *sql.DB
	store   store
	cfg     ThrottleConfig
	ipScope string // scopeIP (logins) or scopeSignup
	kind    error  // ErrLoginThrottled or ErrSignupThrottled
	now     func() time.Time
	log     *slog.Logger
}

const (
	scopeAccount = "account"
	scopeIP      = "ip"
	scopeSignup  = "signup"
)

func newLoginThrottle(db *sql.DB, cfg ThrottleConfig, now func() time.Time, log *slog.Logger) *throttle {
	return &throttle{db: db, cfg: cfg, ipScope: scopeIP, kind: ErrLoginThrottled, now: now, log: log}
}

// newSignupThrottle counts sign-ups per client address: at most perIP in
// window (0: no limit).
func newSignupThrottle(db *sql.DB, perIP int, window time.Duration, now func() time.Time, log *slog.Logger) *throttle {
	return &throttle{db: db, cfg: ThrottleConfig{IPFailures: perIP, Window: window}, ipScope: scopeSignup, kind: ErrSignupThrottled, now: now, log: log}
}

// reservation is a counted attempt; succeeded or release undoes it.
type reservation struct {
	account      []byte    // subject of the account row, nil when not counted
	ip           []byte    // subject of the address row, nil when not counted
	accountStart time.Time // window of the account row the attempt was counted in
	ipStart      time.Time // window of the address row the attempt was counted in
}

type subject struct {
	scope string
	key   []byte
	max   int
}

// reserve counts an attempt for email and client, or returns a
// *ThrottledError (without counting) when either is at its limit.
func (t *throttle) reserve(ctx context.Context, email string, client netip.Addr) (reservation, error) {
	var r reservation
	if !t.cfg.enabled() {
		return r, nil
	}
	var subs []subject
	if t.cfg.AccountFailures > 0 {
		r.account = accountSubject(email)
		subs = append(subs, subject{scopeAccount, r.account, t.cfg.AccountFailures})
	}
	if t.cfg.IPFailures > 0 {
		r.ip = ipSubject(client)
		subs = append(subs, subject{t.ipScope, r.ip, t.cfg.IPFailures})
	}
	var inserted bool
	var err error
	// Two first attempts of a subject racing to insert its row can deadlock
	// on InnoDB's unique-index locks; the loser simply runs again.
	for attempt := 0; ; attempt++ {
		inserted, err = t.reserveTx(ctx, subs, &r)
		if attempt < 3 && mysql.IsDeadlock(err) {
			continue
		}
		break
	}
	if err != nil {
		return reservation{}, err
	}
	if inserted {
		// A new subject: prune a few rows whose window is over, so the table
		// stays about as large as the subjects of one window.
		cutoff := t.now().UTC().Add(-t.cfg.Window)
		// Only this throttle's own scopes: the other one may have a longer window.
		own := scopeAccount
		if t.ipScope == scopeSignup {
			own = scopeSignup
		}
		if err := t.store.PruneThrottles(ctx, t.db, t.ipScope, own, cutoff); err != nil {
			t.log.WarnContext(ctx, "auth: prune login throttles", "err", err) // best effort; the next new subject prunes again
		}
	}
	return r, nil
}

// reserveTx counts the attempt for every subject in one transaction and
// rolls it back when one of them is over its limit. It reports whether a
// new row was inserted.
func (t *throttle) reserveTx(ctx context.Context, subs []subject, r *reservation) (inserted bool, err error) {
	err = mysql.Tx(ctx, t.db, &sql.TxOptions{Isolation: sql.LevelReadCommitted}, func(tx *sql.Tx) error {
		inserted, err = t.count(ctx, tx, subs, r)
		return err
	})
	if err != nil {
		return false, err
	}
	return inserted, nil
}

// count counts the attempt for every subject in tx; an error (a
// *ThrottledError when one of them is over its limit) rolls it back.
func (t *throttle) count(ctx context.Context, tx *sql.Tx, subs []subject, r *reservation) (inserted bool, err error) {
	now := t.now().UTC()
	cutoff := now.Add(-t.cfg.Window)
	var wait time.Duration
	for _, s := range subs {
		c, err := t.store.BumpThrottle(ctx, tx, s.scope, s.key, now, cutoff)
		if err != nil {
			return false, err
		}
		inserted = inserted || c.inserted
		if c.failures > s.max {
			wait = max(wait, c.start.Add(t.cfg.Window).Sub(now))
		}
		if s.scope == scopeAccount {
			r.accountStart = c.start
		} else {
			r.ipStart = c.start
		}
	}
	if wait > 0 {
		return false, &ThrottledError{RetryAfter: wait, kind: t.kind} // rolled back: a refused attempt is not counted
	}
	return inserted, nil
}

// succeeded clears the account's count and returns the address's attempt
// (only in the window it was counted in). The address keeps its other
// failures: logging into one's own account must not reset a guesser's count.
func (t *throttle) succeeded(ctx context.Context, r reservation) error {
	if r.account != nil {
		if err := t.store.ClearThrottle(ctx, t.db, scopeAccount, r.account); err != nil {
			return err
		}
	}
	if r.ip != nil {
		return t.store.ReturnAttempt(ctx, t.db, t.ipScope, r.ip, r.ipStart)
	}
	return nil
}

// release gives a counted attempt back to the account and the address (only
// in the windows it was counted in): the attempt never reached a password
// check (the server was too busy to hash), so it must not count as a guess.
func (t *throttle) release(ctx context.Context, r reservation) error {
	for _, s := range []struct {
		scope string
		key   []byte
		start time.Time
	}{{scopeAccount, r.account, r.accountStart}, {t.ipScope, r.ip, r.ipStart}} {
		if s.key == nil {
			continue
		}
		if err := t.store.ReturnAttempt(ctx, t.db, s.scope, s.key, s.start); err != nil {
			return err
		}
	}
	return nil
}

// accountSubject keys an e-mail address (canonical: CanonicalEmail) without
// storing it: unknown addresses are counted too, so a 429 never tells
// whether an account exists.
func accountSubject(email string) []byte {
	h := sha256.Sum256([]byte("login-throttle/account\x00" + email))
	return h[:]
}

// ipSubject keys a client address: an IPv4 address as is, an IPv6 address by
// its /64 (what one device or home usually gets whole).
func ipSubject(a netip.Addr) []byte {
	a = a.Unmap()
	if a.Is6() {
		a = netip.PrefixFrom(a, 64).Masked().Addr()
	}
	h := sha256.Sum256([]byte("login-throttle/ip\x00" + a.String()))
	return h[:]
}

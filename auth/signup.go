package auth

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"log/slog"
	"net/netip"
	"time"

	"github.com/soomcare/soomcare/mysql"
)

// Sign-up enumeration (issue #26, SECURITY.md). Sign-up answers 409
// email_taken for a registered address: the app has no e-mail verification
// to hide behind a generic "check your e-mail" answer, and a person who
// forgot they have an account must be told. What stops sweeps is a bound on
// those answers: per client address (IPv6: /64) at most TakenPerIP in the
// sign-up window, and overall at most TakenOverall; once either is reached,
// that client's (or everyone's) sign-ups answer 429 signup_throttled until
// the window ends, before anything is looked up, so no answer after the
// limit tells a registered address from a new one. Reaching the overall
// limit logs a warning ("auth: sign-up sweep"), and the 429s feed the
// SoomcareLoginThrottleSurge alert. Counted in login_throttles (scope
// 'signup', their own subjects), so every `serve` shares the counts.

// Defaults of SignupThrottleConfig's taken limits.
const (
	DefaultTakenPerIP   = 5
	DefaultTakenOverall = 100
)

// takenThrottle bounds the email_taken answers of sign-up.
type takenThrottle struct {
	db         *sql.DB
	store      store
	perIP, all int // 0: no limit
	window     time.Duration
	now        func() time.Time
	log        *slog.Logger
}

// newTakenThrottle reads the taken limits of c: off with the sign-up
// throttle (PerIP 0), defaults for zero values, off for negative ones.
func newTakenThrottle(db *sql.DB, c SignupThrottleConfig, now func() time.Time, log *slog.Logger) *takenThrottle {
	t := &takenThrottle{db: db, window: c.Window, now: now, log: log}
	if c.PerIP <= 0 || c.Window <= 0 {
		return t
	}
	pick := func(v, def int) int {
		if v == 0 {
			return def
		}
		return max(v, 0)
	}
	t.perIP, t.all = pick(c.TakenPerIP, DefaultTakenPerIP), pick(c.TakenOverall, DefaultTakenOverall)
	return t
}

func takenSubject(client netip.Addr) []byte {
	h := sha256.Sum256(append([]byte("signup-taken/"), ipSubject(client)...))
	return h[:]
}

func takenOverallSubject() []byte {
	h := sha256.Sum256([]byte("signup-taken/overall"))
	return h[:]
}

type takenLimit struct {
	key     []byte
	max     int
	overall bool
}

func (t *takenThrottle) limits(client netip.Addr) []takenLimit {
	var out []takenLimit
	if t.perIP > 0 {
		out = append(out, takenLimit{takenSubject(client), t.perIP, false})
	}
	if t.all > 0 {
		out = append(out, takenLimit{takenOverallSubject(), t.all, true})
	}
	return out
}

// check returns a *ThrottledError (ErrSignupThrottled) while client, or
// everyone, has had the most email_taken answers of the window.
func (t *takenThrottle) check(ctx context.Context, client netip.Addr) error {
	now := t.now().UTC()
	var wait time.Duration
	for _, l := range t.limits(client) {
		c, ok, err := t.store.ThrottleCount(ctx, t.db, scopeSignup, l.key)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if end := c.start.Add(t.window); c.failures >= l.max && end.After(now) {
			wait = max(wait, end.Sub(now))
		}
	}
	if wait > 0 {
		return &ThrottledError{RetryAfter: wait, kind: ErrSignupThrottled}
	}
	return nil
}

// count records an email_taken answer for client and overall.
func (t *takenThrottle) count(ctx context.Context, client netip.Addr) error {
	limits := t.limits(client)
	if len(limits) == 0 {
		return nil
	}
	now := t.now().UTC()
	return mysql.Tx(ctx, t.db, &sql.TxOptions{Isolation: sql.LevelReadCommitted}, func(tx *sql.Tx) error {
		for _, l := range limits {
			c, err := t.store.BumpThrottle(ctx, tx, scopeSignup, l.key, now, now.Add(-t.window))
			if err != nil {
				return err
			}
			if l.overall && c.failures == l.max {
				t.log.WarnContext(ctx, "auth: sign-up sweep: overall e-mail-taken limit reached; sign-ups answer 429 until the window ends",
					"limit", t.all, "window", t.window.String())
			}
		}
		return nil
	})
}

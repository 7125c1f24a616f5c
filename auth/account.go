package auth

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/soomcare/soomcare/web"
)

// ErrRoleChanged: an access token names a role the user no longer has; the
// app refreshes (the new token carries the current role).
var ErrRoleChanged = errors.New("user role changed since the token was issued")

// accountUsable is the one account-state rule of every way in: password
// login, SNS login, refresh and (through Accounts) every request with an
// access token. A deleted account (users.deleted_at set, or status
// 'deleted') is refused with ErrUserGone. A blocked account signs in: the
// block stops community writes (403 user_blocked there), not the user's own
// health records, which stay theirs to read and export.
func accountUsable(status string, deleted bool) error {
	if deleted || status == "deleted" {
		return ErrUserGone
	}
	return nil
}

// Accounts checks, on every request with an access token, that its user
// still exists (not deleted) and still has the token's role, so a deleted
// or demoted user's access token stops working within TTL instead of
// running out its lifetime (auth.access_token_ttl, 15 min). One primary-key
// lookup per user per TTL (auth.account_check_ttl), cached in process. Safe
// for concurrent use.
type Accounts struct {
	db  *sql.DB
	ttl time.Duration
	now func() time.Time
	log *slog.Logger
	max int

	mu    sync.Mutex
	cache map[uint64]accountEntry
}

type accountEntry struct {
	role string
	gone bool
	at   time.Time
}

// NewAccounts returns an account check over db; ttl 0 looks every request
// up; now may be nil (time.Now), log too (failed lookups are not logged).
func NewAccounts(db *sql.DB, ttl time.Duration, now func() time.Time, log *slog.Logger) *Accounts {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Accounts{db: db, ttl: ttl, now: now, log: log, max: 100_000, cache: map[uint64]accountEntry{}}
}

// Check returns nil when p's user may use the token: ErrUserGone (deleted
// or unknown), ErrRoleChanged, or a database error otherwise.
func (a *Accounts) Check(ctx context.Context, p web.Principal) error {
	e, err := a.entry(ctx, p.UserID)
	switch {
	case err != nil:
		return err
	case e.gone:
		return ErrUserGone
	case e.role != p.Role:
		return ErrRoleChanged
	}
	return nil
}

func (a *Accounts) entry(ctx context.Context, id uint64) (accountEntry, error) {
	now := a.now()
	if a.ttl > 0 {
		a.mu.Lock()
		e, ok := a.cache[id]
		a.mu.Unlock()
		if ok && now.Sub(e.at) < a.ttl {
			return e, nil
		}
	}
	e := accountEntry{at: now}
	u, ok, err := store{}.AccountState(ctx, a.db, id)
	switch {
	case err != nil:
		return accountEntry{}, err
	case !ok:
		e.gone = true
	default:
		e.role = u.Role
		e.gone = accountUsable(u.Status, u.Deleted) != nil
	}
	if a.ttl > 0 {
		a.mu.Lock()
		if len(a.cache) >= a.max {
			clear(a.cache) // bounded: at worst one more lookup per user
		}
		a.cache[id] = e
		a.mu.Unlock()
	}
	return e, nil
}

package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"

	"github.com/soomcare/soomcare/web"
)

// SignUp creates a user with an email (stored as CanonicalEmail) and
// password and signs them in. Errors: ErrEmailTaken, ErrNicknameTaken,
// *ThrottledError (wrapping ErrSignupThrottled: too many sign-ups, or too
// many ErrEmailTaken answers, from client or overall: see signup.go),
// ErrBusy.
func (s *Service) SignUp(ctx context.Context, email, password, nickname string, client netip.Addr) (Tokens, error) {
	email = CanonicalEmail(email)
	if err := s.taken.check(ctx, client); err != nil {
		return Tokens{}, err
	}
	attempt, err := s.signups.reserve(ctx, "", client)
	if err != nil {
		return Tokens{}, err
	}
	hash, err := s.hasher.hash(ctx, password)
	if err != nil {
		// Busy: the attempt did nothing, so it does not count either.
		if rerr := s.signups.release(context.WithoutCancel(ctx), attempt); rerr != nil {
			s.log.WarnContext(ctx, "auth: return sign-up attempt", "err", rerr)
		}
		return Tokens{}, fmt.Errorf("hash password: %w", err)
	}
	var out Tokens
	err = s.tx(ctx, func(tx *sql.Tx) error {
		id, err := s.store.InsertPasswordUser(ctx, tx, email, hash, nickname, s.now().UTC())
		if err != nil {
			return err
		}
		u := User{ID: id, Email: email, Nickname: nickname, Role: web.RoleUser, Status: "active"}
		out, err = s.issue(ctx, tx, u, nil)
		out.Created = true
		return err
	})
	if errors.Is(err, ErrEmailTaken) {
		if cerr := s.taken.count(context.WithoutCancel(ctx), client); cerr != nil {
			return Tokens{}, cerr
		}
	}
	return out, err
}

// Login checks an email and password from client. The address is matched
// in canonical form (CanonicalEmail), byte for byte, and the throttle counts
// that form. Errors: ErrInvalidCredentials (also for an unknown email or a
// deleted account, in about the same time), *ThrottledError (wrapping
// ErrLoginThrottled: too many failures for the email or from client; the
// password is then not checked at all), ErrBusy (no hashing slot; the
// attempt is not counted).
func (s *Service) Login(ctx context.Context, email, password string, client netip.Addr) (Tokens, error) {
	email = CanonicalEmail(email)
	attempt, err := s.throttle.reserve(ctx, email, client)
	if err != nil {
		return Tokens{}, err
	}
	u, _, err := s.store.UserByEmail(ctx, s.db, email)
	if err != nil {
		return Tokens{}, err
	}
	against := u.PasswordHash.String
	if !u.PasswordHash.Valid {
		against = s.dummyHash // an unknown address costs the same comparison
	}
	ok, err := s.hasher.check(ctx, password, against)
	if err != nil {
		if rerr := s.throttle.release(context.WithoutCancel(ctx), attempt); rerr != nil {
			s.log.WarnContext(ctx, "auth: return login attempt", "err", rerr)
		}
		return Tokens{}, err
	}
	// The account state is checked only after the password, so a deleted
	// account answers like a wrong password, in the same time.
	if !ok || !u.PasswordHash.Valid || accountUsable(u.Status, u.Deleted) != nil {
		return Tokens{}, ErrInvalidCredentials
	}
	var out Tokens
	err = s.tx(ctx, func(tx *sql.Tx) error {
		out, err = s.signIn(ctx, tx, u.User)
		return err
	})
	if err != nil {
		return Tokens{}, err
	}
	if err := s.throttle.succeeded(ctx, attempt); err != nil {
		// Signed in all the same; the count only runs out with its window.
		s.log.WarnContext(ctx, "auth: reset login throttle", "err", err)
	}
	return out, nil
}

// signIn records u's login and issues a new session (family) for it, in tx.
func (s *Service) signIn(ctx context.Context, tx *sql.Tx, u User) (Tokens, error) {
	if err := s.store.TouchLogin(ctx, tx, u.ID, s.now().UTC()); err != nil {
		return Tokens{}, err
	}
	return s.issue(ctx, tx, u, nil)
}

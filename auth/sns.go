package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/soomcare/soomcare/web"
)

// verifyOIDC verifies an ID token and returns its identity with the server
// nonce it carries (checked, not yet spent). nonce is the request's
// (optional; see matched).
func (s *Service) verifyOIDC(ctx context.Context, provider, idToken, nonce string) (Identity, string, error) {
	id, err := s.oidc.Verify(ctx, provider, idToken)
	if err != nil {
		return Identity{}, "", err
	}
	n, err := matched(nonce, id.Nonce)
	if err != nil {
		return Identity{}, "", err
	}
	if _, err := s.nonces.check(n); err != nil {
		return Identity{}, "", err
	}
	return id, n, nil
}

func (s *Service) pruneNonces(ctx context.Context) {
	if err := s.store.PruneNonces(ctx, s.db, s.now().UTC()); err != nil {
		s.log.WarnContext(ctx, "auth: prune nonces", "err", err)
	}
}

// LoginOIDC verifies an SNS ID token and signs in the linked user, creating
// one (with nickname, or a generated one when empty) on first login. The
// token must carry a nonce from Nonce, which the sign-in spends. First
// logins of one identity racing each other create one user, whom the others
// sign into. Errors: the OIDC sentinels, ErrNonceInvalid, ErrNicknameTaken,
// ErrUserGone (a deleted account: accountUsable, the check password login
// makes too).
func (s *Service) LoginOIDC(ctx context.Context, provider, idToken, nonce, nickname string) (Tokens, error) {
	id, n, err := s.verifyOIDC(ctx, provider, idToken, nonce)
	if err != nil {
		return Tokens{}, err
	}
	defer s.pruneNonces(ctx)
	var out Tokens
	// First logins of one identity racing each other: see LinkIdentity.
	err = s.txRetry(ctx, sql.LevelReadCommitted, func(tx *sql.Tx) error {
		if err := s.nonces.spend(ctx, tx, n); err != nil {
			return err
		}
		u, linked, err := s.store.UserByIdentity(ctx, tx, id)
		if err != nil {
			return err
		}
		if linked {
			if err := accountUsable(u.Status, u.Deleted); err != nil {
				return err
			}
			out, err = s.signIn(ctx, tx, u.User)
			return err
		}
		out, err = s.signUpSNS(ctx, tx, id, nickname)
		if errors.Is(err, ErrIdentityTaken) {
			return errRaced // linked by another first login meanwhile: sign into that user
		}
		return err
	})
	return out, err
}

// signUpSNS creates a user linked to id (the first SNS login) and signs
// them in, in tx.
func (s *Service) signUpSNS(ctx context.Context, tx *sql.Tx, id Identity, nickname string) (Tokens, error) {
	u, err := s.createSNSUser(ctx, tx, nickname)
	if err != nil {
		return Tokens{}, err
	}
	if err := s.store.InsertIdentity(ctx, tx, u.ID, id); err != nil {
		return Tokens{}, err
	}
	out, err := s.issue(ctx, tx, u, nil)
	out.Created = true
	return out, err
}

// LinkIdentity links an SNS account to the signed-in user. It reports
// whether a new link was made (false: it was already linked to this user).
// Like LoginOIDC it spends the token's nonce. Requests racing to link one
// identity end with one link: the others see it (the same user: false; any
// other: ErrIdentityTaken). Errors: the OIDC sentinels, ErrNonceInvalid,
// ErrIdentityTaken.
func (s *Service) LinkIdentity(ctx context.Context, userID uint64, provider, idToken, nonce string) (Identity, bool, error) {
	id, n, err := s.verifyOIDC(ctx, provider, idToken, nonce)
	if err != nil {
		return Identity{}, false, err
	}
	defer s.pruneNonces(ctx)
	created := false
	// The locking read of a missing link takes a gap lock; two requests
	// holding it and both inserting deadlock, and one that inserts after
	// another committed hits the unique key: either runs again and finds
	// the link.
	err = s.txRetry(ctx, sql.LevelReadCommitted, func(tx *sql.Tx) error {
		created = false
		if err := s.nonces.spend(ctx, tx, n); err != nil {
			return err
		}
		u, linked, err := s.store.UserByIdentity(ctx, tx, id)
		switch {
		case err != nil:
			return err
		case linked && u.ID != userID:
			return ErrIdentityTaken
		case linked:
			return nil
		}
		err = s.store.InsertIdentity(ctx, tx, userID, id)
		switch {
		case errors.Is(err, ErrIdentityTaken):
			return errRaced
		case errors.Is(err, errDuplicate):
			return ErrIdentityTaken
		case err != nil:
			return err
		}
		created = true
		return nil
	})
	return id, created, err
}

func (s *Service) createSNSUser(ctx context.Context, tx *sql.Tx, nickname string) (User, error) {
	generated := nickname == ""
	for attempt := 0; ; attempt++ {
		if generated {
			b := randomBytes(4)
			nickname = fmt.Sprintf("숨쉬는%06d", (uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3]))%1000000)
		}
		id, err := s.store.InsertSNSUser(ctx, tx, nickname, s.now().UTC())
		if err != nil {
			if generated && errors.Is(err, ErrNicknameTaken) && attempt < 5 {
				continue
			}
			return User{}, err
		}
		return User{ID: id, Nickname: nickname, Role: web.RoleUser, Status: "active"}, nil
	}
}

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
	if err := s.nonces.prune(ctx, s.db); err != nil {
		s.log.WarnContext(ctx, "auth: prune nonces", "err", err)
	}
}

// LoginOIDC verifies an SNS ID token and signs in the linked user, creating
// one (with nickname, or a generated one when empty) on first login. The
// token must carry a nonce from Nonce, which the sign-in spends. Errors: the
// OIDC sentinels, ErrNonceInvalid, ErrNicknameTaken, ErrUserGone (a deleted
// account: accountUsable, the check password login makes too).
func (s *Service) LoginOIDC(ctx context.Context, provider, idToken, nonce, nickname string) (Tokens, error) {
	id, n, err := s.verifyOIDC(ctx, provider, idToken, nonce)
	if err != nil {
		return Tokens{}, err
	}
	defer s.pruneNonces(ctx)
	var out Tokens
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.nonces.spend(ctx, tx, n); err != nil {
			return err
		}
		u, deleted, err := s.userByIdentity(ctx, tx, id)
		if err == nil {
			if err := accountUsable(u.Status, deleted); err != nil {
				return err
			}
			out, err = s.signIn(ctx, tx, u)
			return err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		u, err = s.createSNSUser(ctx, tx, nickname)
		if err != nil {
			return err
		}
		if err := insertIdentity(ctx, tx, u.ID, id); err != nil {
			return uniqueErr(err)
		}
		out, err = s.issue(ctx, tx, u, nil)
		out.Created = true
		return err
	})
	return out, err
}

// LinkIdentity links an SNS account to the signed-in user. It reports
// whether a new link was made (false: it was already linked to this user).
// Like LoginOIDC it spends the token's nonce. Errors: the OIDC sentinels,
// ErrNonceInvalid, ErrIdentityTaken.
func (s *Service) LinkIdentity(ctx context.Context, userID uint64, provider, idToken, nonce string) (Identity, bool, error) {
	id, n, err := s.verifyOIDC(ctx, provider, idToken, nonce)
	if err != nil {
		return Identity{}, false, err
	}
	defer s.pruneNonces(ctx)
	created := false
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.nonces.spend(ctx, tx, n); err != nil {
			return err
		}
		u, _, err := s.userByIdentity(ctx, tx, id)
		if err == nil {
			if u.ID != userID {
				return ErrIdentityTaken
			}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := insertIdentity(ctx, tx, userID, id); err != nil {
			if errors.Is(uniqueErr(err), errDuplicate) {
				return ErrIdentityTaken
			}
			return err
		}
		created = true
		return nil
	})
	return id, created, err
}

// userByIdentity returns the user linked to id and whether the user is
// deleted (users.deleted_at set).
func (s *Service) userByIdentity(ctx context.Context, tx *sql.Tx, id Identity) (User, bool, error) {
	var u User
	var email sql.NullString
	var deleted bool
	err := tx.QueryRowContext(ctx, `SELECT u.id, u.email, u.nickname, u.role, u.status, u.deleted_at IS NOT NULL FROM user_identities i JOIN users u ON u.id = i.user_id
		WHERE i.provider = ? AND i.subject = ? FOR UPDATE`, id.Provider, id.Subject).Scan(&u.ID, &email, &u.Nickname, &u.Role, &u.Status, &deleted)
	u.Email = email.String
	return u, deleted, err
}

func (s *Service) createSNSUser(ctx context.Context, tx *sql.Tx, nickname string) (User, error) {
	generated := nickname == ""
	for attempt := 0; ; attempt++ {
		if generated {
			b := randomBytes(4)
			nickname = fmt.Sprintf("숨쉬는%06d", (uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3]))%1000000)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO users (nickname, nickname_key, role, status, last_login_at) VALUES (?, ?, 'user', 'active', ?)`,
			nickname, NicknameKey(nickname), s.now().UTC())
		if err != nil {
			err = uniqueErr(err)
			if generated && errors.Is(err, ErrNicknameTaken) && attempt < 5 {
				continue
			}
			return User{}, err
		}
		id, _ := res.LastInsertId()
		return User{ID: uint64(id), Nickname: nickname, Role: web.RoleUser, Status: "active"}, nil
	}
}

// insertIdentity links id to the user; the error is the driver's, for the
// caller to map.
func insertIdentity(ctx context.Context, tx *sql.Tx, userID uint64, id Identity) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO user_identities (user_id, provider, subject, email) VALUES (?, ?, ?, ?)`,
		userID, id.Provider, id.Subject, nullIfEmpty(id.Email))
	return err
}

package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alexedwards/argon2id"
	gomysql "github.com/go-sql-driver/mysql"

	"github.com/soomcare/soomcare/web"
)

// Sentinel errors of Service; the handlers map them to codes with errors.Is.
var (
	ErrEmailTaken         = errors.New("email taken")
	ErrNicknameTaken      = errors.New("nickname taken")
	ErrIdentityTaken      = errors.New("identity linked to another user")
	ErrInvalidCredentials = errors.New("invalid credentials")
	ErrRefreshInvalid     = errors.New("refresh token unknown or revoked")
	ErrRefreshExpired     = errors.New("refresh token expired")
	ErrRefreshReused      = errors.New("rotated refresh token reused; session revoked")
	ErrUserGone           = errors.New("user deleted")
)

// User is the caller's own profile.
type User struct {
	ID       uint64
	Email    string
	Nickname string
	Role     string
	Status   string
}

// Tokens is what a sign-in returns.
type Tokens struct {
	AccessToken      string
	AccessExpiresAt  time.Time
	RefreshToken     string
	RefreshExpiresAt time.Time
	User             User
	Created          bool // the sign-in created the user (sign-up, first SNS login)
}

// Service signs users up and in and manages refresh tokens in MySQL.
type Service struct {
	db         *sql.DB
	tokens     *TokenIssuer
	oidc       *OIDCVerifier
	refreshTTL time.Duration
	params     *argon2id.Params
	now        func() time.Time
	dummyHash  string
}

// ServiceOptions configure a Service.
type ServiceOptions struct {
	RefreshTTL time.Duration
	// Argon2 are the password hashing parameters; nil means
	// argon2id.DefaultParams (64 MiB, 1 pass, 2 lanes). Tests pass cheaper ones.
	Argon2 *argon2id.Params
	Now    func() time.Time
}

// NewService returns a Service. oidc may be nil (SNS login disabled).
func NewService(db *sql.DB, tokens *TokenIssuer, oidc *OIDCVerifier, o ServiceOptions) (*Service, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Argon2 == nil {
		o.Argon2 = argon2id.DefaultParams
	}
	if o.RefreshTTL <= 0 {
		return nil, errors.New("auth: refresh ttl must be positive")
	}
	if oidc == nil {
		oidc = NewOIDCVerifier(nil, nil, time.Hour, o.Now)
	}
	dummy, err := argon2id.CreateHash("soomcare-timing-equaliser", o.Argon2)
	if err != nil {
		return nil, err
	}
	return &Service{db: db, tokens: tokens, oidc: oidc, refreshTTL: o.RefreshTTL, params: o.Argon2, now: o.Now, dummyHash: dummy}, nil
}

// SignUp creates a user with an email and password and signs them in.
// Errors: ErrEmailTaken, ErrNicknameTaken.
func (s *Service) SignUp(ctx context.Context, email, password, nickname string) (Tokens, error) {
	hash, err := argon2id.CreateHash(password, s.params)
	if err != nil {
		return Tokens{}, fmt.Errorf("hash password: %w", err)
	}
	var out Tokens
	err = s.tx(ctx, func(tx *sql.Tx) error {
		now := s.now().UTC()
		res, err := tx.ExecContext(ctx, `INSERT INTO users (email, password_hash, nickname, role, status, last_login_at) VALUES (?, ?, ?, 'user', 'active', ?)`,
			email, hash, nickname, now)
		if err != nil {
			return uniqueErr(err)
		}
		id, _ := res.LastInsertId()
		u := User{ID: uint64(id), Email: email, Nickname: nickname, Role: web.RoleUser, Status: "active"}
		out, err = s.issue(ctx, tx, u, nil)
		out.Created = true
		return err
	})
	return out, err
}

// Login checks an email and password. Errors: ErrInvalidCredentials (also
// for an unknown email, in about the same time).
func (s *Service) Login(ctx context.Context, email, password string) (Tokens, error) {
	var u User
	var hash sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT id, email, nickname, role, status, password_hash FROM users WHERE email = ? AND deleted_at IS NULL AND status <> 'deleted'`, email).
		Scan(&u.ID, &u.Email, &u.Nickname, &u.Role, &u.Status, &hash)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !hash.Valid) {
		_, _ = argon2id.ComparePasswordAndHash(password, s.dummyHash)
		return Tokens{}, ErrInvalidCredentials
	}
	if err != nil {
		return Tokens{}, fmt.Errorf("load user: %w", err)
	}
	ok, err := argon2id.ComparePasswordAndHash(password, hash.String)
	if err != nil || !ok {
		return Tokens{}, ErrInvalidCredentials
	}
	var out Tokens
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET last_login_at = ? WHERE id = ?`, s.now().UTC(), u.ID); err != nil {
			return err
		}
		out, err = s.issue(ctx, tx, u, nil)
		return err
	})
	return out, err
}

// LoginOIDC verifies an SNS ID token and signs in the linked user, creating
// one (with nickname, or a generated one when empty) on first login. Errors:
// the OIDC sentinels, ErrNicknameTaken, ErrUserGone.
func (s *Service) LoginOIDC(ctx context.Context, provider, idToken, nonce, nickname string) (Tokens, error) {
	id, err := s.oidc.Verify(ctx, provider, idToken, nonce)
	if err != nil {
		return Tokens{}, err
	}
	var out Tokens
	err = s.tx(ctx, func(tx *sql.Tx) error {
		u, err := s.userByIdentity(ctx, tx, id)
		if err == nil {
			if u.Status == "deleted" {
				return ErrUserGone
			}
			if _, err := tx.ExecContext(ctx, `UPDATE users SET last_login_at = ? WHERE id = ?`, s.now().UTC(), u.ID); err != nil {
				return err
			}
			out, err = s.issue(ctx, tx, u, nil)
			return err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		u, err = s.createSNSUser(ctx, tx, nickname)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_identities (user_id, provider, subject, email) VALUES (?, ?, ?, ?)`,
			u.ID, id.Provider, id.Subject, nullIfEmpty(id.Email)); err != nil {
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
// Errors: the OIDC sentinels, ErrIdentityTaken.
func (s *Service) LinkIdentity(ctx context.Context, userID uint64, provider, idToken, nonce string) (Identity, bool, error) {
	id, err := s.oidc.Verify(ctx, provider, idToken, nonce)
	if err != nil {
		return Identity{}, false, err
	}
	created := false
	err = s.tx(ctx, func(tx *sql.Tx) error {
		u, err := s.userByIdentity(ctx, tx, id)
		if err == nil {
			if u.ID != userID {
				return ErrIdentityTaken
			}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_identities (user_id, provider, subject, email) VALUES (?, ?, ?, ?)`,
			userID, id.Provider, id.Subject, nullIfEmpty(id.Email)); err != nil {
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

// Refresh rotates a refresh token: the presented one is spent and a new
// pair is returned. A token already rotated once is reuse (a thief or a
// replay): the whole session (family) is revoked and ErrRefreshReused
// returned. Other errors: ErrRefreshInvalid, ErrRefreshExpired.
func (s *Service) Refresh(ctx context.Context, token string) (Tokens, error) {
	var out Tokens
	var reused bool
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var (
			id, userID       uint64
			family           []byte
			expires          time.Time
			rotated, revoked sql.NullTime
		)
		err := tx.QueryRowContext(ctx, `SELECT id, user_id, family_id, expires_at, rotated_at, revoked_at FROM refresh_tokens WHERE token_hash = ? FOR UPDATE`, hashToken(token)).
			Scan(&id, &userID, &family, &expires, &rotated, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrRefreshInvalid
		}
		if err != nil {
			return err
		}
		now := s.now().UTC()
		switch {
		case revoked.Valid:
			return ErrRefreshInvalid
		case rotated.Valid:
			if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL`, now, family); err != nil {
				return err
			}
			reused = true
			return nil // commit the revocation
		case !now.Before(expires):
			return ErrRefreshExpired
		}
		var u User
		var email sql.NullString
		err = tx.QueryRowContext(ctx, `SELECT id, email, nickname, role, status FROM users WHERE id = ? AND deleted_at IS NULL`, userID).
			Scan(&u.ID, &email, &u.Nickname, &u.Role, &u.Status)
		if errors.Is(err, sql.ErrNoRows) || u.Status == "deleted" {
			if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL`, now, family); err != nil {
				return err
			}
			return nil
		}
		if err != nil {
			return err
		}
		u.Email = email.String
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET rotated_at = ? WHERE id = ?`, now, id); err != nil {
			return err
		}
		out, err = s.issue(ctx, tx, u, family)
		return err
	})
	if err != nil {
		return Tokens{}, err
	}
	if reused {
		return Tokens{}, ErrRefreshReused
	}
	if out.AccessToken == "" {
		return Tokens{}, ErrRefreshInvalid // user gone; family revoked
	}
	return out, nil
}

// Logout revokes the session (family) of a refresh token. Unknown tokens
// are ignored, so logout is idempotent and reveals nothing.
func (s *Service) Logout(ctx context.Context, token string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE refresh_tokens t JOIN refresh_tokens f ON f.family_id = t.family_id
		SET f.revoked_at = ? WHERE t.token_hash = ? AND f.revoked_at IS NULL`, s.now().UTC(), hashToken(token))
	return err
}

// Me returns the user's profile. Errors: ErrUserGone.
func (s *Service) Me(ctx context.Context, userID uint64) (User, error) {
	var u User
	var email sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT id, email, nickname, role, status FROM users WHERE id = ? AND deleted_at IS NULL AND status <> 'deleted'`, userID).
		Scan(&u.ID, &email, &u.Nickname, &u.Role, &u.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrUserGone
	}
	u.Email = email.String
	return u, err
}

// issue mints an access token and inserts a refresh token (a new family when
// family is nil) inside tx.
func (s *Service) issue(ctx context.Context, tx *sql.Tx, u User, family []byte) (Tokens, error) {
	access, exp, err := s.tokens.Issue(web.Principal{UserID: u.ID, Role: u.Role})
	if err != nil {
		return Tokens{}, err
	}
	if family == nil {
		family = randomBytes(16)
	}
	refresh := base64.RawURLEncoding.EncodeToString(randomBytes(32))
	rexp := s.now().UTC().Add(s.refreshTTL)
	if _, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at) VALUES (?, ?, ?, ?)`,
		u.ID, family, hashToken(refresh), rexp); err != nil {
		return Tokens{}, fmt.Errorf("store refresh token: %w", err)
	}
	return Tokens{AccessToken: access, AccessExpiresAt: exp, RefreshToken: refresh, RefreshExpiresAt: rexp, User: u}, nil
}

func (s *Service) userByIdentity(ctx context.Context, tx *sql.Tx, id Identity) (User, error) {
	var u User
	var email sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT u.id, u.email, u.nickname, u.role, u.status FROM user_identities i JOIN users u ON u.id = i.user_id
		WHERE i.provider = ? AND i.subject = ? FOR UPDATE`, id.Provider, id.Subject).Scan(&u.ID, &email, &u.Nickname, &u.Role, &u.Status)
	u.Email = email.String
	return u, err
}

func (s *Service) createSNSUser(ctx context.Context, tx *sql.Tx, nickname string) (User, error) {
	generated := nickname == ""
	for attempt := 0; ; attempt++ {
		if generated {
			b := randomBytes(4)
			nickname = fmt.Sprintf("숨쉬는%06d", (uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3]))%1000000)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO users (nickname, role, status, last_login_at) VALUES (?, 'user', 'active', ?)`, nickname, s.now().UTC())
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

func (s *Service) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

var errDuplicate = errors.New("duplicate key")

// uniqueErr maps a duplicate-key error on a known unique key to its sentinel.
func uniqueErr(err error) error {
	var me *gomysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1062 {
		return err
	}
	switch {
	case strings.Contains(me.Message, "uk_users_email"):
		return ErrEmailTaken
	case strings.Contains(me.Message, "uk_users_nickname"):
		return ErrNicknameTaken
	case strings.Contains(me.Message, "uk_user_identities_provider_subject"):
		return ErrIdentityTaken
	}
	return fmt.Errorf("%w: %v", errDuplicate, err)
}

func hashToken(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return b
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

package auth

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
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

	refreshID uint64 // refresh_tokens.id of RefreshToken
}

// Service signs users up and in and manages refresh tokens in MySQL.
type Service struct {
	db           *sql.DB
	tokens       *TokenIssuer
	oidc         *OIDCVerifier
	refreshTTL   time.Duration
	refreshGrace time.Duration
	throttle     *throttle
	params       *argon2id.Params
	compare      func(password, hash string) (bool, error)
	now          func() time.Time
	log          *slog.Logger
	dummyHash    string
}

// ServiceOptions configure a Service.
type ServiceOptions struct {
	RefreshTTL time.Duration
	// RefreshGrace is how long after a rotation the rotated refresh token
	// still gets its successor back (auth.refresh_reuse_grace); 0: never,
	// every second use is reuse.
	RefreshGrace time.Duration
	// LoginThrottle limits failed logins (auth.login_throttle); the zero
	// value does not limit.
	LoginThrottle ThrottleConfig
	// Argon2 are the password hashing parameters; nil means
	// argon2id.DefaultParams (64 MiB, 1 pass, 2 lanes). Tests pass cheaper ones.
	Argon2 *argon2id.Params
	// ComparePassword checks a password against a stored hash; nil means
	// argon2id.ComparePasswordAndHash. Tests wrap it to count hash runs.
	ComparePassword func(password, hash string) (bool, error)
	Now             func() time.Time
	Logger          *slog.Logger
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
	if o.RefreshGrace < 0 {
		return nil, errors.New("auth: refresh grace must not be negative")
	}
	if o.ComparePassword == nil {
		o.ComparePassword = argon2id.ComparePasswordAndHash
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if oidc == nil {
		oidc = NewOIDCVerifier(nil, nil, time.Hour, o.Now)
	}
	dummy, err := argon2id.CreateHash("soomcare-timing-equaliser", o.Argon2)
	if err != nil {
		return nil, err
	}
	return &Service{
		db: db, tokens: tokens, oidc: oidc, refreshTTL: o.RefreshTTL, refreshGrace: o.RefreshGrace,
		throttle: &throttle{db: db, cfg: o.LoginThrottle, now: o.Now, log: o.Logger},
		params:   o.Argon2, compare: o.ComparePassword, now: o.Now, log: o.Logger, dummyHash: dummy,
	}, nil
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

// Login checks an email and password from client. Errors:
// ErrInvalidCredentials (also for an unknown email, in about the same time),
// *ThrottledError (wrapping ErrLoginThrottled: too many failures for the
// email or from client; the password is then not checked at all).
func (s *Service) Login(ctx context.Context, email, password string, client netip.Addr) (Tokens, error) {
	attempt, err := s.throttle.reserve(ctx, email, client)
	if err != nil {
		return Tokens{}, err
	}
	var u User
	var hash sql.NullString
	err = s.db.QueryRowContext(ctx, `SELECT id, email, nickname, role, status, password_hash FROM users WHERE email = ? AND deleted_at IS NULL AND status <> 'deleted'`, email).
		Scan(&u.ID, &u.Email, &u.Nickname, &u.Role, &u.Status, &hash)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !hash.Valid) {
		_, _ = s.compare(password, s.dummyHash)
		return Tokens{}, ErrInvalidCredentials
	}
	if err != nil {
		return Tokens{}, fmt.Errorf("load user: %w", err)
	}
	ok, err := s.compare(password, hash.String)
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
	if err != nil {
		return Tokens{}, err
	}
	if err := s.throttle.succeeded(ctx, attempt); err != nil {
		// Signed in all the same; the count only runs out with its window.
		s.log.WarnContext(ctx, "auth: reset login throttle", "err", err)
	}
	return out, nil
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
// returned. Within the grace (ServiceOptions.RefreshGrace) after its
// rotation, though, the rotated token gets the same successor back (two
// requests of the app in flight with the same token), or ErrRefreshInvalid
// without revoking anything when that successor has been used or revoked
// since. Other errors: ErrRefreshInvalid, ErrRefreshExpired.
func (s *Service) Refresh(ctx context.Context, token string) (Tokens, error) {
	var out Tokens
	var reused bool
	// READ COMMITTED: the locking read below then takes a record lock only. Under
	// REPEATABLE READ concurrent refreshes of one token deadlock: the waiters'
	// next-key requests on the token's index entry block the winner's insert of
	// the successor just before it.
	err := s.txRetry(ctx, sql.LevelReadCommitted, func(tx *sql.Tx) error {
		out, reused = Tokens{}, false
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
		case rotated.Valid && s.refreshGrace > 0 && now.Sub(rotated.Time) <= s.refreshGrace:
			out, err = s.successor(ctx, tx, id, token, now)
			return err
		case rotated.Valid:
			if err := s.revokeFamily(ctx, tx, family, now); err != nil {
				return err
			}
			reused = true
			return nil // commit the revocation
		case !now.Before(expires):
			return ErrRefreshExpired
		}
		u, ok, err := s.sessionUser(ctx, tx, userID, family, now)
		if err != nil || !ok {
			return err // !ok: user gone, family revoked, out stays empty
		}
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET rotated_at = ? WHERE id = ?`, now, id); err != nil {
			return err
		}
		out, err = s.issue(ctx, tx, u, family)
		if err != nil || s.refreshGrace == 0 {
			return err
		}
		sealed, err := sealSuccessor(token, id, out.RefreshToken)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO refresh_token_successors (token_id, successor_id, sealed_token) VALUES (?, ?, ?)`,
			id, out.refreshID, sealed); err != nil {
			return fmt.Errorf("store refresh successor: %w", err)
		}
		return nil
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
	if s.refreshGrace > 0 {
		// Sealed successors are only needed for the grace (at most minutes);
		// prune a few old ones per rotation, by the database's own clock.
		if _, err := s.db.ExecContext(ctx, `DELETE FROM refresh_token_successors WHERE created_at < NOW(6) - INTERVAL 1 HOUR LIMIT 20`); err != nil {
			s.log.WarnContext(ctx, "auth: prune refresh successors", "err", err)
		}
	}
	return out, nil
}

// successor returns, for a token rotated within the grace, the pair its
// rotation issued: the same refresh token (unsealed with the presented
// token) and a fresh access token.
func (s *Service) successor(ctx context.Context, tx *sql.Tx, tokenID uint64, token string, now time.Time) (Tokens, error) {
	var (
		succID, userID   uint64
		family, sealed   []byte
		expires          time.Time
		rotated, revoked sql.NullTime
	)
	err := tx.QueryRowContext(ctx, `SELECT t.id, t.user_id, t.family_id, t.expires_at, t.rotated_at, t.revoked_at, s.sealed_token
		FROM refresh_token_successors s JOIN refresh_tokens t ON t.id = s.successor_id WHERE s.token_id = ? FOR UPDATE`, tokenID).
		Scan(&succID, &userID, &family, &expires, &rotated, &revoked, &sealed)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Tokens{}, ErrRefreshInvalid // rotated while the grace was off
	case err != nil:
		return Tokens{}, err
	case revoked.Valid || rotated.Valid:
		// The app has moved on (or signed out) already: nothing to hand out,
		// and nothing to revoke either, since this is inside the grace.
		return Tokens{}, ErrRefreshInvalid
	case !now.Before(expires):
		return Tokens{}, ErrRefreshExpired
	}
	refresh, err := openSuccessor(token, tokenID, sealed)
	if err != nil {
		return Tokens{}, fmt.Errorf("auth: refresh successor %d: %w", succID, err)
	}
	u, ok, err := s.sessionUser(ctx, tx, userID, family, now)
	if err != nil {
		return Tokens{}, err
	}
	if !ok {
		return Tokens{}, nil // user gone, family revoked
	}
	access, exp, err := s.tokens.Issue(web.Principal{UserID: u.ID, Role: u.Role})
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{AccessToken: access, AccessExpiresAt: exp, RefreshToken: refresh, RefreshExpiresAt: expires.UTC(), User: u, refreshID: succID}, nil
}

// sessionUser loads the user of a refresh token; when the user is gone it
// revokes the family and reports false.
func (s *Service) sessionUser(ctx context.Context, tx *sql.Tx, userID uint64, family []byte, now time.Time) (User, bool, error) {
	var u User
	var email sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT id, email, nickname, role, status FROM users WHERE id = ? AND deleted_at IS NULL`, userID).
		Scan(&u.ID, &email, &u.Nickname, &u.Role, &u.Status)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && u.Status == "deleted") {
		return User{}, false, s.revokeFamily(ctx, tx, family, now)
	}
	if err != nil {
		return User{}, false, err
	}
	u.Email = email.String
	return u, true, nil
}

func (s *Service) revokeFamily(ctx context.Context, tx *sql.Tx, family []byte, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL`, now, family)
	return err
}

// sealSuccessor encrypts the successor of a rotated token (AES-256-GCM)
// under a key derived from the rotated token, which the database never
// holds (it stores only the token's SHA-256, a different hash): a reader of
// the database cannot unseal it, the presenter of the rotated token can.
func sealSuccessor(token string, tokenID uint64, successor string) ([]byte, error) {
	aead, err := successorAEAD(token)
	if err != nil {
		return nil, err
	}
	nonce := randomBytes(aead.NonceSize())
	return aead.Seal(nonce, nonce, []byte(successor), binary.BigEndian.AppendUint64(nil, tokenID)), nil
}

func openSuccessor(token string, tokenID uint64, sealed []byte) (string, error) {
	aead, err := successorAEAD(token)
	if err != nil {
		return "", err
	}
	if len(sealed) < aead.NonceSize() {
		return "", errors.New("sealed successor too short")
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], binary.BigEndian.AppendUint64(nil, tokenID))
	return string(plain), err
}

func successorAEAD(token string) (cipher.AEAD, error) {
	key := sha256.Sum256([]byte("refresh-successor/v1\x00" + token))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
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
	res, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at) VALUES (?, ?, ?, ?)`,
		u.ID, family, hashToken(refresh), rexp)
	if err != nil {
		return Tokens{}, fmt.Errorf("store refresh token: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return Tokens{}, fmt.Errorf("store refresh token: %w", err)
	}
	return Tokens{AccessToken: access, AccessExpiresAt: exp, RefreshToken: refresh, RefreshExpiresAt: rexp, User: u, refreshID: uint64(id)}, nil
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
	return s.txLevel(ctx, sql.LevelDefault, fn)
}

func (s *Service) txLevel(ctx context.Context, level sql.IsolationLevel, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: level})
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// txRetry runs fn in a transaction and runs it again (a few times) when
// InnoDB picks it as a deadlock victim; fn must be safe to repeat.
func (s *Service) txRetry(ctx context.Context, level sql.IsolationLevel, fn func(*sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.txLevel(ctx, level, fn)
		var me *gomysql.MySQLError
		if attempt < 4 && errors.As(err, &me) && me.Number == 1213 {
			continue
		}
		return err
	}
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

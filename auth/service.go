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
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/soomcare/soomcare/mysql"
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
	signups      *throttle
	taken        *takenThrottle
	hasher       *hasher
	passwords    *PasswordPolicy
	nonces       *nonces
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
	// SignupThrottle limits sign-ups per client address
	// (auth.signup_throttle); the zero value does not limit.
	SignupThrottle SignupThrottleConfig
	// Argon2 are the password hashing parameters; nil means
	// argon2id.DefaultParams (64 MiB, 1 pass, 2 lanes). Tests pass cheaper ones.
	Argon2 *argon2id.Params
	// HashConcurrency is how many argon2id hashes or comparisons run at once
	// (auth.hash_concurrency; 0: 2, i.e. 128 MiB with DefaultParams); each
	// holds Argon2.Memory KiB while it runs.
	HashConcurrency int
	// HashWait is how long a sign-up or login waits for a hashing slot before
	// it is answered 503 busy (auth.hash_wait; 0: 2s).
	HashWait time.Duration
	// NonceTTL is how long an SNS-login nonce may be used (auth.oidc.nonce_ttl;
	// 0: 10 minutes).
	NonceTTL time.Duration
	// ComparePassword checks a password against a stored hash; nil means
	// argon2id.ComparePasswordAndHash. Tests wrap it to count hash runs.
	ComparePassword func(password, hash string) (bool, error)
	Now             func() time.Time
	Logger          *slog.Logger
}

// SignupThrottleConfig limits sign-ups per client address (an IPv6 client:
// its /64) in a fixed window, counted in login_throttles (scope 'signup'),
// and the email_taken answers per address and overall (see signup.go).
type SignupThrottleConfig struct {
	PerIP  int           // sign-up attempts per address in Window; 0: no limit (and no taken limits)
	Window time.Duration // fixed window from the address's first attempt
	// TakenPerIP and TakenOverall bound the email_taken answers per address
	// and across all clients in Window; 0: DefaultTakenPerIP and
	// DefaultTakenOverall, negative: no limit.
	TakenPerIP, TakenOverall int
}

// NewService returns a Service. oidc may be nil (SNS login disabled).
func NewService(db *sql.DB, tokens *TokenIssuer, oidc *OIDCVerifier, o ServiceOptions) (*Service, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Argon2 == nil {
		o.Argon2 = argon2id.DefaultParams
	}
	if o.HashConcurrency == 0 {
		o.HashConcurrency = 2
	}
	if o.HashWait == 0 {
		o.HashWait = 2 * time.Second
	}
	if o.NonceTTL <= 0 {
		o.NonceTTL = 10 * time.Minute
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
		oidc = NewOIDCVerifier(nil, OIDCOptions{Now: o.Now})
	}
	h, err := newHasher(o.Argon2, o.ComparePassword, o.HashConcurrency, o.HashWait)
	if err != nil {
		return nil, err
	}
	dummy, err := argon2id.CreateHash("soomcare-timing-equaliser", o.Argon2)
	if err != nil {
		return nil, err
	}
	passwords, err := NewPasswordPolicy()
	if err != nil {
		return nil, err
	}
	return &Service{
		db: db, tokens: tokens, oidc: oidc, refreshTTL: o.RefreshTTL, refreshGrace: o.RefreshGrace,
		throttle: newLoginThrottle(db, o.LoginThrottle, o.Now, o.Logger),
		signups:  newSignupThrottle(db, o.SignupThrottle.PerIP, o.SignupThrottle.Window, o.Now, o.Logger),
		taken:    newTakenThrottle(db, o.SignupThrottle, o.Now, o.Logger),
		hasher:   h, passwords: passwords, nonces: &nonces{key: tokens.derive("soomcare/oidc-nonce"), ttl: o.NonceTTL, now: o.Now},
		now: o.Now, log: o.Logger, dummyHash: dummy,
	}, nil
}

// HashStats reports the password-hashing slots and the most ever held at
// once.
func (s *Service) HashStats() HashStats {
	return HashStats{Slots: cap(s.hasher.slots), MaxHeld: int(s.hasher.maxHeld.Load())}
}

// Nonce issues a single-use nonce for an SNS login (or link) and its expiry.
func (s *Service) Nonce() (string, time.Time) { return s.nonces.issue() }

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
		now := s.now().UTC()
		res, err := tx.ExecContext(ctx, `INSERT INTO users (email, password_hash, nickname, nickname_key, role, status, last_login_at) VALUES (?, ?, ?, ?, 'user', 'active', ?)`,
			email, hash, nickname, NicknameKey(nickname), now)
		if err != nil {
			return uniqueErr(err)
		}
		id, _ := res.LastInsertId()
		u := User{ID: uint64(id), Email: email, Nickname: nickname, Role: web.RoleUser, Status: "active"}
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
	var u User
	var hash sql.NullString
	var deleted bool
	err = s.db.QueryRowContext(ctx, `SELECT id, email, nickname, role, status, deleted_at IS NOT NULL, password_hash FROM users WHERE email = ?`, email).
		Scan(&u.ID, &u.Email, &u.Nickname, &u.Role, &u.Status, &deleted, &hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Tokens{}, fmt.Errorf("load user: %w", err)
	}
	against := hash.String
	if err != nil || !hash.Valid {
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
	if !ok || !hash.Valid || accountUsable(u.Status, deleted) != nil {
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
	var deleted bool
	err := tx.QueryRowContext(ctx, `SELECT id, email, nickname, role, status, deleted_at IS NOT NULL FROM users WHERE id = ?`, userID).
		Scan(&u.ID, &email, &u.Nickname, &u.Role, &u.Status, &deleted)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && accountUsable(u.Status, deleted) != nil) {
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

func (s *Service) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.txLevel(ctx, sql.LevelDefault, fn)
}

func (s *Service) txLevel(ctx context.Context, level sql.IsolationLevel, fn func(*sql.Tx) error) error {
	return mysql.Tx(ctx, s.db, &sql.TxOptions{Isolation: level}, fn)
}

// txRetry runs fn in a transaction and runs it again (a few times) when
// InnoDB picks it as a deadlock victim; fn must be safe to repeat.
func (s *Service) txRetry(ctx context.Context, level sql.IsolationLevel, fn func(*sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.txLevel(ctx, level, fn)
		if attempt < 4 && mysql.IsDeadlock(err) {
			continue
		}
		return err
	}
}

var errDuplicate = errors.New("duplicate key")

// uniqueErr maps a duplicate-key error on a known unique key to its sentinel.
func uniqueErr(err error) error {
	key, ok := mysql.DuplicateKey(err)
	switch {
	case !ok:
		return err
	case key == "uk_users_email":
		return ErrEmailTaken
	case key == "uk_users_nickname", key == "uk_users_nickname_key":
		return ErrNicknameTaken
	case key == "uk_user_identities_provider_subject":
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

package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"log/slog"
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
	store        store
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

// Me returns the user's profile. Errors: ErrUserGone.
func (s *Service) Me(ctx context.Context, userID uint64) (User, error) {
	return s.store.Profile(ctx, s.db, userID)
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
	id, err := s.store.InsertRefreshToken(ctx, tx, u.ID, family, hashToken(refresh), rexp)
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{AccessToken: access, AccessExpiresAt: exp, RefreshToken: refresh, RefreshExpiresAt: rexp, User: u, refreshID: id}, nil
}

func (s *Service) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.txLevel(ctx, sql.LevelDefault, fn)
}

func (s *Service) txLevel(ctx context.Context, level sql.IsolationLevel, fn func(*sql.Tx) error) error {
	return mysql.Tx(ctx, s.db, &sql.TxOptions{Isolation: level}, fn)
}

// errRaced is what a transaction returns when it lost a race to insert a
// row that another transaction has committed meanwhile: run again, it reads
// that row and decides on it.
var errRaced = errors.New("auth: lost an insert race; run again")

// txRetry runs fn in a transaction and runs it again (a few times) when
// InnoDB picks it as a deadlock victim or fn returns errRaced; fn must be
// safe to repeat.
func (s *Service) txRetry(ctx context.Context, level sql.IsolationLevel, fn func(*sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.txLevel(ctx, level, fn)
		if attempt < 4 && (mysql.IsDeadlock(err) || errors.Is(err, errRaced)) {
			continue
		}
		return err
	}
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

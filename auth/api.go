package auth

import (
	"log/slog"
	"net/http"
	"net/mail"
	"net/netip"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/web"
)

// API serves the auth endpoints (documented in apidoc/paths/auth.yaml):
//
//	POST /v1/auth/signup              email, password, nickname → 201 tokens (429 signup_throttled, 503 busy)
//	POST /v1/auth/login               email, password → 200 tokens (429 login_throttled after repeated failures, 503 busy)
//	POST /v1/auth/refresh             refresh_token → 200 new tokens (rotation)
//	POST /v1/auth/logout              refresh_token → 204 (revokes the session)
//	POST /v1/auth/oidc/nonce          → 201 nonce, expires_at (single use, for the provider's sign-in)
//	POST /v1/auth/oidc/{provider}     id_token (with that nonce), nonce?, nickname? → 200 / 201 tokens
//	GET  /v1/me                       the caller's profile
//	POST /v1/me/identities/{provider} id_token (with a nonce), nonce? → 201 linked / 200 already linked
type API struct {
	svc     *Service
	kit     web.Kit
	trusted []netip.Prefix
}

// APIOptions configure the handlers.
type APIOptions struct {
	Logger *slog.Logger
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the
	// client that the login throttle counts (searchapi.trusted_proxies);
	// empty: the TCP peer is the client.
	TrustedProxies []netip.Prefix
}

// NewAPI returns the handlers over svc.
func NewAPI(svc *Service, o APIOptions) *API {
	return &API{svc: svc, kit: web.NewKit(o.Logger, errorTable()), trusted: o.TrustedProxies}
}

// Use returns a mount that installs Middleware on the whole router; pass it
// to server.New before the mounts whose routes need a principal.
func Use(v Verifier) func(*gin.Engine) {
	return func(e *gin.Engine) { e.Use(Middleware(v)) }
}

// UseChecked is Use with the account check of CheckedMiddleware (what
// `serve` mounts).
func UseChecked(v Verifier, accounts *Accounts) func(*gin.Engine) {
	return func(e *gin.Engine) { e.Use(CheckedMiddleware(v, accounts)) }
}

// Mount adds the routes.
func (a *API) Mount(e *gin.Engine) {
	h := a.kit.Handle
	g := e.Group("/v1/auth")
	g.POST("/signup", h(a.signUp))
	g.POST("/login", h(a.login))
	g.POST("/refresh", h(a.refresh))
	g.POST("/logout", h(a.logout))
	g.POST("/oidc/nonce", h(a.nonce))
	g.POST("/oidc/:provider", h(a.oidcLogin))
	e.GET("/v1/me", web.RequireAuth(), h(a.me))
	e.POST("/v1/me/identities/:provider", web.RequireAuth(), h(a.link))
}

type userJSON struct {
	ID       uint64 `json:"id"`
	Email    string `json:"email,omitempty"`
	Nickname string `json:"nickname"`
	Role     string `json:"role"`
	Status   string `json:"status"`
}

type tokensJSON struct {
	TokenType        string    `json:"token_type"`
	AccessToken      string    `json:"access_token"`
	ExpiresIn        int64     `json:"expires_in"`
	AccessExpiresAt  time.Time `json:"access_expires_at"`
	RefreshToken     string    `json:"refresh_token"`
	RefreshExpiresAt time.Time `json:"refresh_expires_at"`
	User             userJSON  `json:"user"`
}

func toUserJSON(u User) userJSON {
	return userJSON{ID: u.ID, Email: u.Email, Nickname: u.Nickname, Role: u.Role, Status: u.Status}
}

// tokens answers a session (never cached).
func tokens(c *gin.Context, t Tokens, status int) web.Answer {
	c.Header("Cache-Control", "no-store")
	return web.Answer{Status: status, Body: tokensJSON{
		TokenType: "Bearer", AccessToken: t.AccessToken,
		ExpiresIn:       int64(time.Until(t.AccessExpiresAt).Round(time.Second) / time.Second),
		AccessExpiresAt: t.AccessExpiresAt.UTC(), RefreshToken: t.RefreshToken,
		RefreshExpiresAt: t.RefreshExpiresAt.UTC(), User: toUserJSON(t.User),
	}}
}

type signUpReq struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Nickname string `json:"nickname"`
}

func (a *API) signUp(c *gin.Context) (web.Answer, error) {
	var r signUpReq
	if err := web.AppBody().Decode(c.Request, &r); err != nil {
		return web.Answer{}, err
	}
	var f web.Fields
	email := checkEmail(&f, r.Email)
	nick := CheckNickname(&f, "nickname", r.Nickname, true)
	a.svc.passwords.Check(&f, r.Password, email, nick)
	if err := f.Err(); err != nil {
		return web.Answer{}, err
	}
	t, err := a.svc.SignUp(c.Request.Context(), email, r.Password, nick, web.ClientAddr(c.Request, a.trusted))
	if err != nil {
		return web.Answer{}, err
	}
	return tokens(c, t, http.StatusCreated), nil
}

type loginReq struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (a *API) login(c *gin.Context) (web.Answer, error) {
	var r loginReq
	if err := web.AppBody().Decode(c.Request, &r); err != nil {
		return web.Answer{}, err
	}
	var f web.Fields
	if strings.TrimSpace(r.Email) == "" {
		f.Add("email", web.FieldRequired, "이메일을 입력해 주세요.")
	}
	if r.Password == "" {
		f.Add("password", web.FieldRequired, "비밀번호를 입력해 주세요.")
	} else if len(r.Password) > 256 {
		f.Add("password", web.FieldTooLong, "비밀번호가 너무 깁니다.")
	}
	if err := f.Err(); err != nil {
		return web.Answer{}, err
	}
	t, err := a.svc.Login(c.Request.Context(), r.Email, r.Password, web.ClientAddr(c.Request, a.trusted))
	if err != nil {
		return web.Answer{}, err
	}
	return tokens(c, t, http.StatusOK), nil
}

type refreshReq struct {
	RefreshToken string `json:"refresh_token"`
}

func readRefresh(c *gin.Context) (string, error) {
	var r refreshReq
	if err := web.AppBody().Decode(c.Request, &r); err != nil {
		return "", err
	}
	var f web.Fields
	if r.RefreshToken == "" {
		f.Add("refresh_token", web.FieldRequired, "리프레시 토큰이 필요합니다.")
	} else if len(r.RefreshToken) > 200 {
		f.Add("refresh_token", web.FieldTooLong, "리프레시 토큰이 너무 깁니다.")
	}
	return r.RefreshToken, f.Err()
}

func (a *API) refresh(c *gin.Context) (web.Answer, error) {
	tok, err := readRefresh(c)
	if err != nil {
		return web.Answer{}, err
	}
	t, err := a.svc.Refresh(c.Request.Context(), tok)
	if err != nil {
		return web.Answer{}, err
	}
	return tokens(c, t, http.StatusOK), nil
}

func (a *API) logout(c *gin.Context) (web.Answer, error) {
	tok, err := readRefresh(c)
	if err != nil {
		return web.Answer{}, err
	}
	if err := a.svc.Logout(c.Request.Context(), tok); err != nil {
		return web.Answer{}, err
	}
	return web.NoContent(), nil
}

type nonceJSON struct {
	Nonce     string    `json:"nonce"`
	ExpiresAt time.Time `json:"expires_at"`
}

// nonce issues a single-use nonce for the provider's sign-in. It takes no
// body and stores nothing (see nonces).
func (a *API) nonce(c *gin.Context) (web.Answer, error) {
	n, exp := a.svc.Nonce()
	c.Header("Cache-Control", "no-store")
	return web.Created(nonceJSON{Nonce: n, ExpiresAt: exp}), nil
}

type oidcReq struct {
	IDToken  string `json:"id_token"`
	Nonce    string `json:"nonce"`
	Nickname string `json:"nickname"`
}

// checkIDToken validates the id_token field.
func checkIDToken(f *web.Fields, tok string) {
	if tok == "" {
		f.Add("id_token", web.FieldRequired, "SNS ID 토큰이 필요합니다.")
	} else if len(tok) > 16384 {
		f.Add("id_token", web.FieldTooLong, "SNS ID 토큰이 너무 깁니다.")
	}
}

func (a *API) oidcLogin(c *gin.Context) (web.Answer, error) {
	var r oidcReq
	if err := web.AppBody().Decode(c.Request, &r); err != nil {
		return web.Answer{}, err
	}
	var f web.Fields
	checkIDToken(&f, r.IDToken)
	nick := CheckNickname(&f, "nickname", r.Nickname, false)
	if err := f.Err(); err != nil {
		return web.Answer{}, err
	}
	t, err := a.svc.LoginOIDC(c.Request.Context(), c.Param("provider"), r.IDToken, r.Nonce, nick)
	if err != nil {
		return web.Answer{}, err
	}
	status := http.StatusOK
	if t.Created {
		status = http.StatusCreated
	}
	return tokens(c, t, status), nil
}

func (a *API) me(c *gin.Context) (web.Answer, error) {
	p, _ := web.PrincipalFrom(c)
	u, err := a.svc.Me(c.Request.Context(), p.UserID)
	if err != nil {
		return web.Answer{}, err
	}
	return web.OK(toUserJSON(u)), nil
}

type identityJSON struct {
	Provider string `json:"provider"`
	Subject  string `json:"subject"`
	Email    string `json:"email,omitempty"`
}

func (a *API) link(c *gin.Context) (web.Answer, error) {
	p, _ := web.PrincipalFrom(c)
	var r oidcReq
	if err := web.AppBody().Decode(c.Request, &r); err != nil {
		return web.Answer{}, err
	}
	var f web.Fields
	checkIDToken(&f, r.IDToken)
	if r.Nickname != "" {
		f.Add("nickname", web.FieldUnknown, "연결할 때는 SNS ID 토큰만 보내 주세요.")
	}
	if err := f.Err(); err != nil {
		return web.Answer{}, err
	}
	id, created, err := a.svc.LinkIdentity(c.Request.Context(), p.UserID, c.Param("provider"), r.IDToken, r.Nonce)
	if err != nil {
		return web.Answer{}, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return web.Answer{Status: status, Body: identityJSON{Provider: id.Provider, Subject: id.Subject, Email: id.Email}}, nil
}

// checkEmail validates an e-mail address for sign-up and returns its
// canonical form (CanonicalEmail), which is what is stored.
func checkEmail(f *web.Fields, raw string) string {
	email := CanonicalEmail(raw)
	if email == "" {
		f.Add("email", web.FieldRequired, "이메일을 입력해 주세요.")
		return ""
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > 254 || !strings.Contains(email[strings.LastIndex(email, "@")+1:], ".") {
		f.Add("email", web.FieldInvalid, "올바른 이메일 주소가 아닙니다.")
	}
	return email
}

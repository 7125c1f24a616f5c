package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// client speaks to one running serve.
type client struct {
	base string
	hc   *http.Client
}

// answer is what one request got: the status, the error code of the JSON
// envelope (package web: {"code":…,"message":…,"fields":[{"field":…,"code":…}],
// "request_id":…}) when there is one, and the body.
type answer struct {
	status int
	code   string
	fields []string // the envelope's field errors: field:code
	body   []byte
	err    error // transport failure or an unreadable body
}

// String is how a check prints what it got: "400 validation_failed
// memo:invalid", "201", "error: …".
func (a answer) String() string {
	if a.err != nil {
		return "error: " + a.err.Error()
	}
	s := strconv.Itoa(a.status)
	if a.code != "" {
		s += " " + a.code
	}
	if len(a.fields) > 0 {
		s += " " + strings.Join(a.fields, " ")
	}
	return s
}

// envelope reports whether the body is the API's error envelope.
func (a answer) envelope() bool { return a.err == nil && a.code != "" }

// rawJSON is a request body sent byte for byte (invalid UTF-8 survives;
// json.Marshal would turn it into U+FFFD).
type rawJSON []byte

// do sends one request; body is nil, rawJSON or a value to marshal.
func (c *client) do(ctx context.Context, method, path, token string, body any) answer {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case rawJSON:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return answer{err: fmt.Errorf("marshal request: %w", err)}
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return answer{err: err}
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	a := answer{status: resp.StatusCode, body: b, err: err}
	var env struct {
		Code   string `json:"code"`
		Fields []struct {
			Field string `json:"field"`
			Code  string `json:"code"`
		} `json:"fields"`
	}
	if resp.StatusCode >= 400 && json.Unmarshal(b, &env) == nil {
		a.code = env.Code
		for _, f := range env.Fields {
			a.fields = append(a.fields, f.Field+":"+f.Code)
		}
	}
	return a
}

// decode reads the answer's body into v.
func (a answer) decode(v any) error {
	if a.err != nil {
		return a.err
	}
	if err := json.Unmarshal(a.body, v); err != nil {
		return fmt.Errorf("answer %d is not the expected JSON: %w", a.status, err)
	}
	return nil
}

// strings returns every string value in the JSON body (keys excluded).
func (a answer) strings() []string {
	var v any
	if json.Unmarshal(a.body, &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case string:
			out = append(out, t)
		case []any:
			for _, e := range t {
				walk(e)
			}
		case map[string]any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// mentions reports whether any string value of the body contains s.
func (a answer) mentions(s string) bool {
	for _, v := range a.strings() {
		if strings.Contains(v, s) {
			return true
		}
	}
	return false
}

// user is an account the probe signed up.
type user struct {
	id       uint64
	email    string
	password string
	nickname string
	token    string
}

// signUp creates an account and returns it signed in. When sign-up answers
// without tokens (a generic answer against e-mail enumeration), it signs in.
func (c *client) signUp(ctx context.Context, email, password, nickname string) (user, error) {
	u := user{email: email, password: password, nickname: nickname}
	a := c.do(ctx, http.MethodPost, "/v1/auth/signup", "", map[string]string{"email": email, "password": password, "nickname": nickname})
	if a.err != nil || a.status/100 != 2 {
		return u, fmt.Errorf("POST /v1/auth/signup → %s", a)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		User        struct {
			ID uint64 `json:"id"`
		} `json:"user"`
	}
	_ = a.decode(&tok)
	if tok.AccessToken == "" {
		a = c.do(ctx, http.MethodPost, "/v1/auth/login", "", map[string]string{"email": email, "password": password})
		if err := a.decode(&tok); err != nil || a.status != http.StatusOK || tok.AccessToken == "" {
			return u, fmt.Errorf("POST /v1/auth/login after sign-up → %s", a)
		}
	}
	u.token, u.id = tok.AccessToken, tok.User.ID
	if u.id == 0 {
		me, err := c.me(ctx, u.token)
		if err != nil {
			return u, err
		}
		u.id = me.id
	}
	return u, nil
}

// me is GET /v1/me: the caller's id and nickname.
func (c *client) me(ctx context.Context, token string) (user, error) {
	a := c.do(ctx, http.MethodGet, "/v1/me", token, nil)
	var me struct {
		ID       uint64 `json:"id"`
		Nickname string `json:"nickname"`
		Email    string `json:"email"`
	}
	if err := a.decode(&me); err != nil || a.status != http.StatusOK || me.ID == 0 {
		return user{}, fmt.Errorf("GET /v1/me → %s", a)
	}
	return user{id: me.ID, nickname: me.Nickname, email: me.Email, token: token}, nil
}

// mintToken signs an access token the way auth.TokenIssuer does (HS256,
// iss, sub = user id, role, iat, exp) with secret.
func mintToken(secret []byte, issuer string, userID uint64, role string, now time.Time) (string, error) {
	claims := struct {
		Role string `json:"role"`
		jwt.RegisteredClaims
	}{
		Role: role,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   strconv.FormatUint(userID, 10),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(10 * time.Minute)),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// randomLetters returns n random letters of alphabet.
func randomLetters(alphabet string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	r := []rune(alphabet)
	var s strings.Builder
	for _, x := range b {
		s.WriteRune(r[int(x)%len(r)])
	}
	return s.String()
}

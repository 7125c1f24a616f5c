package reminder

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// NoticeTopic is the FCM topic every app instance subscribes to (the app
// calls FirebaseMessaging.subscribeToTopic("notices") at start): a notice to
// all users is one request, not one per token.
const NoticeTopic = "notices"

// Message is one push: to a device token or to a topic (exactly one).
type Message struct {
	Token string
	Topic string
	Title string
	Body  string
	Data  map[string]string // FCM data values are strings
}

// Sender delivers a push; the FCM client implements it, tests fake it.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// ErrUnregistered means the token is no longer valid (app uninstalled): the
// caller deletes it and never retries.
var ErrUnregistered = errors.New("reminder: device token is unregistered")

// SendError is a failed FCM request.
type SendError struct {
	Status     int    // HTTP status (0: no answer)
	Code       string // FCM errorCode (UNREGISTERED, QUOTA_EXCEEDED, …) or the status name
	Message    string
	Retryable  bool          // 429, 5xx, a network error
	RetryAfter time.Duration // from Retry-After, if any
}

func (e *SendError) Error() string {
	return fmt.Sprintf("reminder: fcm send: %d %s: %s", e.Status, e.Code, e.Message)
}

// Is makes errors.Is(err, ErrUnregistered) true for a dead token.
func (e *SendError) Is(target error) bool {
	return target == ErrUnregistered && (e.Code == "UNREGISTERED" || (e.Status == http.StatusNotFound && e.Code == "NOT_FOUND"))
}

// TokenSource yields an OAuth 2 access token for the FCM scope.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// StaticToken is a fixed bearer token (local test servers, a token minted
// by a sidecar).
type StaticToken string

// Token returns the fixed token.
func (s StaticToken) Token(context.Context) (string, error) { return string(s), nil }

// FCM speaks the FCM HTTP v1 protocol:
// POST {endpoint}/v1/projects/{project}/messages:send with an OAuth bearer.
type FCM struct {
	endpoint string
	project  string
	tokens   TokenSource
	client   *http.Client
}

// NewFCM returns a client; endpoint is https://fcm.googleapis.com in
// production, a local httptest server in tests.
func NewFCM(endpoint, project string, tokens TokenSource, client *http.Client) *FCM {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &FCM{endpoint: strings.TrimRight(endpoint, "/"), project: project, tokens: tokens, client: client}
}

type fcmNotification struct {
	Title string `json:"title,omitempty"`
	Body  string `json:"body,omitempty"`
}

type fcmMessage struct {
	Token        string            `json:"token,omitempty"`
	Topic        string            `json:"topic,omitempty"`
	Notification *fcmNotification  `json:"notification,omitempty"`
	Data         map[string]string `json:"data,omitempty"`
	Android      map[string]any    `json:"android,omitempty"`
	APNS         map[string]any    `json:"apns,omitempty"`
}

// Send delivers m. Errors are *SendError (or a token-source error).
func (f *FCM) Send(ctx context.Context, m Message) error {
	if (m.Token == "") == (m.Topic == "") {
		return errors.New("reminder: a message needs exactly one of token and topic")
	}
	bearer, err := f.tokens.Token(ctx)
	if err != nil {
		return &SendError{Code: "AUTH", Message: err.Error(), Retryable: true}
	}
	body, err := json.Marshal(map[string]any{"message": fcmMessage{
		Token: m.Token, Topic: m.Topic,
		Notification: &fcmNotification{Title: m.Title, Body: m.Body},
		Data:         m.Data,
		Android:      map[string]any{"priority": "high"},
		APNS:         map[string]any{"headers": map[string]string{"apns-priority": "10"}},
	}})
	if err != nil {
		return err
	}
	u := f.endpoint + "/v1/projects/" + url.PathEscape(f.project) + "/messages:send"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	res, err := f.client.Do(req)
	if err != nil {
		return &SendError{Code: "NETWORK", Message: err.Error(), Retryable: true}
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode == http.StatusOK {
		return nil
	}
	var eb struct {
		Error struct {
			Message string `json:"message"`
			Status  string `json:"status"`
			Details []struct {
				Type      string `json:"@type"`
				ErrorCode string `json:"errorCode"`
			} `json:"details"`
		} `json:"error"`
	}
	_ = json.Unmarshal(raw, &eb)
	se := &SendError{Status: res.StatusCode, Code: eb.Error.Status, Message: eb.Error.Message,
		Retryable: res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500}
	for _, d := range eb.Error.Details {
		if d.ErrorCode != "" {
			se.Code = d.ErrorCode
		}
	}
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s > 0 {
		se.RetryAfter = time.Duration(s) * time.Second
	}
	return se
}

// ServiceAccount is a TokenSource from a Google service-account key file
// (Firebase console → Project settings → Service accounts → Generate new
// private key): a JWT signed with the key (RS256) is exchanged at the key's
// token_uri for an access token with the firebase.messaging scope (RFC 7523),
// cached until a minute before it expires.
type ServiceAccount struct {
	email    string
	key      *rsa.PrivateKey
	tokenURI string
	client   *http.Client
	now      func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

// FCMScope is the OAuth scope of the FCM HTTP v1 API.
const FCMScope = "https://www.googleapis.com/auth/firebase.messaging"

// LoadServiceAccount reads a service-account JSON key file.
func LoadServiceAccount(path string, client *http.Client) (*ServiceAccount, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reminder: service account: %w", err)
	}
	return ParseServiceAccount(raw, client)
}

// ParseServiceAccount parses a service-account JSON key.
func ParseServiceAccount(raw []byte, client *http.Client) (*ServiceAccount, error) {
	var f struct {
		Type        string `json:"type"`
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
		TokenURI    string `json:"token_uri"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("reminder: service account: %w", err)
	}
	if f.Type != "service_account" || f.ClientEmail == "" || f.TokenURI == "" {
		return nil, errors.New("reminder: service account: not a service_account key with client_email and token_uri")
	}
	block, _ := pem.Decode([]byte(f.PrivateKey))
	if block == nil {
		return nil, errors.New("reminder: service account: private_key is not PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("reminder: service account: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("reminder: service account: private_key is not RSA")
	}
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &ServiceAccount{email: f.ClientEmail, key: rk, tokenURI: f.TokenURI, client: client, now: time.Now}, nil
}

// Token returns a cached or fresh access token.
func (s *ServiceAccount) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.token != "" && now.Before(s.expires.Add(-time.Minute)) {
		return s.token, nil
	}
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	claims, _ := json.Marshal(map[string]any{
		"iss": s.email, "scope": FCMScope, "aud": s.tokenURI,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	signing := header + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(nil, s.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {signing + "." + enc.EncodeToString(sig)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.tokenURI, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := s.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("reminder: token exchange: %w", err)
	}
	defer res.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 64<<10)).Decode(&tr); err != nil || res.StatusCode != http.StatusOK || tr.AccessToken == "" {
		return "", fmt.Errorf("reminder: token exchange: HTTP %d", res.StatusCode)
	}
	s.token, s.expires = tr.AccessToken, now.Add(time.Duration(tr.ExpiresIn)*time.Second)
	return s.token, nil
}

package reminder

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeFCM is a local FCM HTTP v1 server that checks the request shape the
// way Google's does and records the messages.
type fakeFCM struct {
	*httptest.Server
	t       testing.TB
	project string
	token   string

	mu       sync.Mutex
	messages []map[string]any
	answer   func(msg map[string]any) (int, string) // nil: 200
}

func newFakeFCM(t testing.TB, project, token string) *fakeFCM {
	f := &fakeFCM{t: t, project: project, token: token}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeFCM) serve(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, msg string) {
		f.t.Errorf("fake FCM: %s", msg)
		w.WriteHeader(status)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/projects/"+f.project+"/messages:send" {
		fail(404, "unexpected "+r.Method+" "+r.URL.Path)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		fail(401, "bearer = "+r.Header.Get("Authorization"))
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		fail(400, "content type "+r.Header.Get("Content-Type"))
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req map[string]map[string]any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(&req); err != nil || len(req) != 1 || req["message"] == nil {
		fail(400, "body "+string(body))
		return
	}
	msg := req["message"]
	_, hasToken := msg["token"]
	_, hasTopic := msg["topic"]
	if hasToken == hasTopic {
		fail(400, "want exactly one of token/topic: "+string(body))
		return
	}
	if n, ok := msg["notification"].(map[string]any); !ok || n["title"] == "" {
		fail(400, "notification "+string(body))
		return
	}
	if d, ok := msg["data"].(map[string]any); ok {
		for k, v := range d {
			if _, isString := v.(string); !isString {
				fail(400, "data."+k+" is not a string")
				return
			}
		}
	}
	f.mu.Lock()
	f.messages = append(f.messages, msg)
	answer := f.answer
	f.mu.Unlock()
	status, out := 200, `{"name":"projects/`+f.project+`/messages/0:1"}`
	if answer != nil {
		if s, b := answer(msg); s != 0 {
			status, out = s, b
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if status == 503 {
		w.Header().Set("Retry-After", "7")
	}
	w.WriteHeader(status)
	io.WriteString(w, out)
}

func (f *fakeFCM) got() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.messages...)
}

func TestFCMRequestShape(t *testing.T) {
	f := newFakeFCM(t, "soomcare-test", "tok-123")
	c := NewFCM(f.URL, "soomcare-test", StaticToken("tok-123"), nil)
	err := c.Send(context.Background(), Message{Token: "device-token-0123456789", Title: "복약 알림", Body: "심비코트 복용", Data: map[string]string{"schedule_id": "7"}})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Send(context.Background(), Message{Topic: NoticeTopic, Title: "공지", Body: "점검 안내"})
	if err != nil {
		t.Fatal(err)
	}
	got := f.got()
	if len(got) != 2 || got[0]["token"] != "device-token-0123456789" || got[1]["topic"] != "notices" || got[1]["token"] != nil {
		t.Fatalf("messages = %v", got)
	}
	if got[0]["data"].(map[string]any)["schedule_id"] != "7" || got[0]["notification"].(map[string]any)["body"] != "심비코트 복용" {
		t.Errorf("message = %v", got[0])
	}
	if err := c.Send(context.Background(), Message{Title: "x"}); err == nil {
		t.Error("a message without token or topic was sent")
	}
}

func TestFCMErrors(t *testing.T) {
	f := newFakeFCM(t, "p", "t")
	c := NewFCM(f.URL, "p", StaticToken("t"), nil)
	tests := []struct {
		status       int
		body         string
		unregistered bool
		retryable    bool
	}{
		{404, `{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}`, true, false},
		{400, `{"error":{"code":400,"message":"bad token","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"}]}}`, false, false},
		{429, `{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"errorCode":"QUOTA_EXCEEDED"}]}}`, false, true},
		{503, `{"error":{"code":503,"status":"UNAVAILABLE"}}`, false, true},
	}
	for _, tt := range tests {
		f.answer = func(map[string]any) (int, string) { return tt.status, tt.body }
		err := c.Send(context.Background(), Message{Token: "device-token-0123456789", Title: "x"})
		var se *SendError
		if !errors.As(err, &se) || errors.Is(err, ErrUnregistered) != tt.unregistered || se.Retryable != tt.retryable {
			t.Errorf("%d: err = %v (unregistered %v retryable %v)", tt.status, err, errors.Is(err, ErrUnregistered), se != nil && se.Retryable)
		}
		if tt.status == 503 && se.RetryAfter.Seconds() != 7 {
			t.Errorf("Retry-After = %v", se.RetryAfter)
		}
	}
}

// A service-account key is exchanged for an access token at its token_uri
// (RFC 7523 JWT bearer), cached, and used as the FCM bearer.
func TestServiceAccountToken(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	exchanges := 0
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.Form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || strings.Count(r.Form.Get("assertion"), ".") != 2 {
			t.Errorf("token request %v", r.Form)
		}
		exchanges++
		io.WriteString(w, `{"access_token":"ya29.test","expires_in":3600,"token_type":"Bearer"}`)
	}))
	defer tokenSrv.Close()
	raw, _ := json.Marshal(map[string]string{
		"type": "service_account", "client_email": "fcm@soomcare.iam.gserviceaccount.com", "token_uri": tokenSrv.URL,
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
	})
	sa, err := ParseServiceAccount(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeFCM(t, "p", "ya29.test")
	c := NewFCM(f.URL, "p", sa, nil)
	for range 2 {
		if err := c.Send(context.Background(), Message{Topic: NoticeTopic, Title: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if exchanges != 1 {
		t.Errorf("%d token exchanges, want 1 (cached)", exchanges)
	}
}

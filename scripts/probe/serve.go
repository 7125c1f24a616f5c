package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// serveStartWait is how long `serve` with a refused secret may take to
// exit; one still running then has accepted the secret.
const serveStartWait = 20 * time.Second

// serveRefusesSecret starts `binary serve` with secret as
// SOOMCARE_AUTH_JWT_SECRET (and a listener on a free port; the rest of the
// environment inherited) and holds when it exits non-zero naming
// auth.jwt_secret before serveStartWait.
func serveRefusesSecret(ctx context.Context, binary, secret string) result {
	r := result{id: "1f", what: "soomcare serve with SOOMCARE_AUTH_JWT_SECRET = the committed secret",
		want: "exit non-zero naming auth.jwt_secret"}
	ctx, cancel := context.WithTimeout(ctx, serveStartWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve")
	cmd.Env = withEnv(os.Environ(), map[string]string{
		"SOOMCARE_AUTH_JWT_SECRET":   secret,
		"SOOMCARE_HTTP_ADDR":         "127.0.0.1:0",
		"SOOMCARE_HTTP_METRICS_ADDR": "",
	})
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.got = "still serving after " + serveStartWait.String() + " (stopped)"
	case err == nil:
		r.got = "exit 0"
	case !errors.As(err, &exit):
		r.got = "could not run: " + err.Error()
	default:
		r.got = exit.String() + ": " + lastLine(out.String())
		r.ok = strings.Contains(out.String(), "jwt_secret") || strings.Contains(out.String(), "JWT_SECRET")
	}
	return r
}

// serveEnv is the inherited environment with serve listening on addr, no
// metrics listener, and set's variables.
func serveEnv(addr string, set map[string]string) []string {
	env := map[string]string{"SOOMCARE_HTTP_ADDR": addr, "SOOMCARE_HTTP_METRICS_ADDR": ""}
	maps.Copy(env, set)
	return withEnv(os.Environ(), env)
}

// startServe starts `binary serve` on a free port with set added to the
// inherited environment, waits until /readyz answers 200, and returns its
// base URL and the function that stops it.
func startServe(ctx context.Context, binary string, set map[string]string) (string, func(), error) {
	addr, err := freeAddr()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(binary, "serve")
	cmd.Env = serveEnv(addr, set)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start serve: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	base, hc := "http://"+addr, &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(serveStartWait)
	for {
		select {
		case err := <-done:
			return "", nil, fmt.Errorf("a second serve exited (%v): %s", err, lastLine(out.String()))
		default:
		}
		if resp, err := hc.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, stop, nil
			}
		}
		if time.Now().After(deadline) || sleep(ctx, 250*time.Millisecond) != nil {
			stop()
			return "", nil, fmt.Errorf("a second serve was not ready on %s within %s", addr, serveStartWait)
		}
	}
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// lockedBuffer collects a process's output written from two pipes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// withEnv returns environ with set's variables replaced or added.
func withEnv(environ []string, set map[string]string) []string {
	out := make([]string, 0, len(environ)+len(set))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if _, ok := set[name]; !ok {
			out = append(out, kv)
		}
	}
	for k, v := range set {
		out = append(out, k+"="+v)
	}
	return out
}

// lastLine is the last non-empty line of s, shortened.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return shorten(strings.TrimSpace(lines[len(lines)-1]), 160)
}

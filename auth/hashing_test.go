package auth_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/soomcare/soomcare/auth"
)

// signUpFrom posts a sign-up from client and returns status, body and Retry-After.
func (e *env) signUpFrom(client, email, nickname string) (int, map[string]any, string) {
	e.t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email, "password": "천식관리1234", "nickname": nickname})
	req := httptest.NewRequest("POST", "/v1/auth/signup", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = client + ":40000"
	rec := e.v.Serve(e.t, e.h, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out, rec.Header().Get("Retry-After")
}

// heapPeak samples HeapInuse until stop is closed and returns the highest
// value seen above base.
func heapPeak(base uint64, stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > base && ms.HeapInuse-base > peak {
				peak = ms.HeapInuse - base
			}
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// 60 concurrent sign-ups: password hashing never holds more than
// auth.hash_concurrency × the argon2id memory. Measured on the heap (a
// sampler of HeapInuse above the idle heap) and by the most slots ever held.
// Without the bound all 60 hashes allocate at once (60 × 16 MiB here).
func TestConcurrentSignupsBoundHashMemory(t *testing.T) {
	const (
		mib         = 1 << 20
		perHash     = 16 * mib
		concurrency = 2
		n           = 60
	)
	e := newEnv(t, func(o *auth.ServiceOptions, _ *auth.APIOptions) {
		o.Argon2 = &argon2id.Params{Memory: perHash / 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
		o.HashConcurrency = concurrency
		o.HashWait = time.Minute
	})
	svc := e.service
	// Collect eagerly, so HeapInuse follows the live heap instead of the
	// garbage the default GOGC=100 lets pile up between cycles.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	stop := make(chan struct{})
	peakc := heapPeak(ms.HeapInuse, stop)

	var created atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, body, _ := e.signUpFrom(fmt.Sprintf("198.51.100.%d", i+1), fmt.Sprintf("user%02d@example.com", i), fmt.Sprintf("사용자%02d", i))
			if st == 201 {
				created.Add(1)
			} else {
				t.Errorf("sign-up %d: %d %v", i, st, body)
			}
		}()
	}
	wg.Wait()
	close(stop)
	peak := <-peakc
	stats := svc.HashStats()
	// Live hashing memory is at most concurrency × perHash. A finished hash's
	// buffer stays on the heap until a collection reclaims it, and hashes
	// that start while a collection is marking allocate beside it: measured
	// 4 or 5 buffers of 16 MiB here (64.1–80.0 MiB in 24 runs, idle and
	// under three busy loops). So the ceiling allows two collection cycles
	// of garbage beside the live buffers, plus the requests' own small
	// allocations: 112 MiB, still an eighth of the unbounded 960 MiB.
	ceiling := uint64(3*concurrency*perHash + 16*mib)
	t.Logf("%d sign-ups; heap peak %.1f MiB above idle (ceiling %.0f MiB; unbounded would be %d MiB); most slots held %d of %d",
		created.Load(), float64(peak)/mib, float64(ceiling)/mib, n*perHash/mib, stats.MaxHeld, stats.Slots)
	if stats.MaxHeld > concurrency {
		t.Errorf("%d hashes ran at once, want at most %d", stats.MaxHeld, concurrency)
	}
	if peak > ceiling {
		t.Errorf("heap peaked %.1f MiB above idle during the sign-ups, want at most %.0f MiB", float64(peak)/mib, float64(ceiling)/mib)
	}
}

// A request that cannot get a hashing slot within auth.hash_wait answers 503
// busy with Retry-After; a login or sign-up refused that way is not counted
// by its throttle.
func TestHashBusy(t *testing.T) {
	release := make(chan struct{})
	var entered atomic.Int32
	e := newEnv(t, throttled(1, 0), func(o *auth.ServiceOptions, _ *auth.APIOptions) {
		o.SignupThrottle = auth.SignupThrottleConfig{PerIP: 1, Window: time.Hour}
		o.HashConcurrency = 1
		o.HashWait = 50 * time.Millisecond
		o.ComparePassword = func(password, hash string) (bool, error) {
			if password == "slow-password" {
				entered.Add(1)
				<-release
			}
			return argon2id.ComparePasswordAndHash(password, hash)
		}
	})
	if st, body, _ := e.signUpFrom("198.51.100.9", "minji@example.com", "민지"); st != 201 {
		t.Fatalf("signup %d %v", st, body)
	}
	done := make(chan int)
	go func() {
		st, _, _ := e.login(e.h, "198.51.100.1", "other@example.com", "slow-password")
		done <- st
	}()
	for entered.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	if st, body, h := e.login(e.h, "198.51.100.2", "minji@example.com", "천식관리1234"); st != 503 || code(body) != "busy" || h.Get("Retry-After") != "1" {
		t.Errorf("login while the only slot is taken: %d %v Retry-After %q, want 503 busy 1", st, body, h.Get("Retry-After"))
	}
	if st, body, ra := e.signUpFrom("198.51.100.3", "new@example.com", "새사람"); st != 503 || code(body) != "busy" || ra != "1" {
		t.Errorf("sign-up while the only slot is taken: %d %v Retry-After %q, want 503 busy 1", st, body, ra)
	}
	close(release)
	<-done
	// The busy login was not a guess: with a limit of 1 failure the right
	// password still gets in.
	if st, body, _ := e.login(e.h, "198.51.100.2", "minji@example.com", "천식관리1234"); st != 200 {
		t.Errorf("after the slot is free: %d %v", st, body)
	}
	// Nor was the busy sign-up: with a limit of 1 per address it still gets in.
	if st, body, _ := e.signUpFrom("198.51.100.3", "new@example.com", "새사람"); st != 201 {
		t.Errorf("sign-up after the slot is free: %d %v", st, body)
	}
}

// Sign-ups are counted per client address in MySQL (every instance shares
// the count); past the limit 429 signup_throttled with Retry-After, and no
// password is hashed.
func TestSignupThrottlePerAddress(t *testing.T) {
	e := newEnv(t, func(o *auth.ServiceOptions, _ *auth.APIOptions) {
		o.SignupThrottle = auth.SignupThrottleConfig{PerIP: 3, Window: time.Hour}
	})
	for i := range 3 {
		if st, body, _ := e.signUpFrom("198.51.100.7", fmt.Sprintf("u%d@example.com", i), fmt.Sprintf("사용자%d", i)); st != 201 {
			t.Fatalf("sign-up %d: %d %v", i+1, st, body)
		}
	}
	e.h = e.instance()
	before := e.service.HashStats().MaxHeld
	st, body, ra := e.signUpFrom("198.51.100.7", "u9@example.com", "사용자9")
	if st != 429 || code(body) != "signup_throttled" || ra != "3600" {
		t.Errorf("fourth sign-up from one address: %d %v Retry-After %q, want 429 signup_throttled 3600", st, body, ra)
	}
	if after := e.service.HashStats().MaxHeld; after != before {
		t.Errorf("a throttled sign-up hashed a password")
	}
	if st, body, _ := e.signUpFrom("203.0.113.5", "u9@example.com", "사용자9"); st != 201 {
		t.Errorf("another address: %d %v", st, body)
	}
	// Login throttling is separate: the address can still sign in.
	if st, body, _ := e.login(e.h, "198.51.100.7", "u0@example.com", "천식관리1234"); st != 200 {
		t.Errorf("login from the throttled address: %d %v", st, body)
	}
	e.now = e.now.Add(time.Hour)
	if st, body, _ := e.signUpFrom("198.51.100.7", "u10@example.com", "사용자10"); st != 201 {
		t.Errorf("after the window: %d %v", st, body)
	}
}

package auth

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/alexedwards/argon2id"
)

// ErrBusy: every password-hashing slot stayed taken for the whole wait
// (auth.hash_wait); the request is answered 503 `busy` with Retry-After.
var ErrBusy = errors.New("password hashing at capacity")

// hasher runs argon2id hashes and comparisons, at most cap(slots) at a
// time: each run allocates Params.Memory (64 MiB with DefaultParams) for
// its duration, so unbounded concurrency turns a burst of sign-ups or
// logins into gigabytes of heap. A caller waits at most wait for a slot.
type hasher struct {
	params  *argon2id.Params
	compare func(password, hash string) (bool, error)
	slots   chan struct{}
	wait    time.Duration

	held    atomic.Int64
	maxHeld atomic.Int64 // most slots ever held at once (HashStats)
}

func newHasher(params *argon2id.Params, compare func(string, string) (bool, error), concurrency int, wait time.Duration) (*hasher, error) {
	if concurrency < 1 {
		return nil, fmt.Errorf("auth: hash concurrency must be at least 1 (got %d)", concurrency)
	}
	if wait <= 0 {
		return nil, fmt.Errorf("auth: hash wait must be positive (got %s)", wait)
	}
	return &hasher{params: params, compare: compare, slots: make(chan struct{}, concurrency), wait: wait}, nil
}

// acquire takes a slot, or fails with ErrBusy after h.wait (or with the
// context's error); release must follow a nil error.
func (h *hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
	default:
		t := time.NewTimer(h.wait)
		defer t.Stop()
		select {
		case h.slots <- struct{}{}:
		case <-t.C:
			return ErrBusy
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	n := h.held.Add(1)
	for {
		m := h.maxHeld.Load()
		if n <= m || h.maxHeld.CompareAndSwap(m, n) {
			break
		}
	}
	return nil
}

func (h *hasher) release() {
	h.held.Add(-1)
	<-h.slots
}

// hash returns the argon2id hash of password.
func (h *hasher) hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return argon2id.CreateHash(password, h.params)
}

// check compares password with an argon2id hash; a malformed hash is a
// mismatch.
func (h *hasher) check(ctx context.Context, password, hash string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	ok, err := h.compare(password, hash)
	return ok && err == nil, nil
}

// HashStats reports the password-hashing slots: how many exist and the most
// ever held at once (so at most MaxHeld × Params.Memory of heap was ever
// held by hashing).
type HashStats struct {
	Slots   int
	MaxHeld int
}

package searchapi

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter is a token bucket per client (golang.org/x/time/rate). An IPv4
// client is its address; an IPv6 client is its /64, which one device or home
// usually gets whole. Idle buckets are swept as requests arrive, so memory
// follows the number of recent clients and no goroutine needs stopping.
type limiter struct {
	limit   rate.Limit
	burst   int
	trusted []netip.Prefix
	now     func() time.Time

	mu        sync.Mutex
	clients   map[netip.Addr]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

const (
	sweepEvery = time.Minute
	idleAfter  = 5 * time.Minute
)

func newLimiter(perSecond float64, burst int, trusted []netip.Prefix, now func() time.Time) *limiter {
	return &limiter{limit: rate.Limit(perSecond), burst: burst, trusted: trusted, now: now, clients: map[netip.Addr]*bucket{}}
}

// allow takes a token for client, or says how long until one is available.
func (l *limiter) allow(client netip.Addr) (bool, time.Duration) {
	now := l.now()
	key := client
	if key.Is6() && !key.Is4In6() {
		key = netip.PrefixFrom(key, 64).Masked().Addr()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > sweepEvery {
		for k, b := range l.clients {
			if now.Sub(b.seen) > idleAfter {
				delete(l.clients, k)
			}
		}
		l.lastSweep = now
	}
	b := l.clients[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.clients[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Second
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now) // a refused request does not spend the client's future tokens
		return false, d
	}
	return true, 0
}

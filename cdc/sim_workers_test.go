package cdc

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The simulation's worker processes and the observer that watches them
// (checkpoints, the lag gauge) while a schedule plays.

// simWorker is one `soomcare cdc` process.
type simWorker struct {
	*proc
	addr string // its metrics listener, once logged
}

var metricsAddrRe = regexp.MustCompile(`msg=metrics addr=(\S+)`)

// metricsAddr is the worker's metrics address, "" until it has logged it.
// Callers hold s.mu.
func (w *simWorker) metricsAddr() string {
	if w.addr == "" {
		if m := metricsAddrRe.FindStringSubmatch(w.log.String()); m != nil {
			w.addr = m[1]
		}
	}
	return w.addr
}

func (s *sim) startWorker() *simWorker {
	w := &simWorker{proc: startProc(s.t, s.env.bin, procEnv(s.p))}
	s.mu.Lock()
	s.workers = append(s.workers, w)
	n := len(s.workers)
	s.mu.Unlock()
	s.note("  worker pid %d started (%d live)", w.cmd.Process.Pid, n)
	return w
}

// live counts the worker processes still running (and forgets the others).
func (s *sim) live() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.workers[:0]
	for _, w := range s.workers {
		if w.exitedYet() {
			s.logs = append(s.logs, w.log.String())
			s.journal = append(s.journal, fmt.Sprintf("  worker pid %d had exited: %s", w.cmd.Process.Pid, w.cmd.ProcessState))
			continue
		}
		kept = append(kept, w)
	}
	s.workers = kept
	return len(kept)
}

// kill SIGKILLs the active worker (the first live one when none says it is
// active) and, when none is left, starts one after delay.
func (s *sim) kill(delay time.Duration) {
	if s.live() == 0 {
		s.startWorker()
		return
	}
	s.mu.Lock()
	victim := s.workers[0]
	for _, w := range s.workers {
		if m, ok := scrape(w.metricsAddr()); ok && m.active == 1 {
			victim = w
			break
		}
	}
	s.mu.Unlock()
	victim.cmd.Process.Signal(syscall.SIGKILL)
	victim.wait()
	s.note("  SIGKILL pid %d", victim.cmd.Process.Pid)
	if s.live() == 0 {
		time.Sleep(delay)
		s.startWorker()
	}
}

// simMetrics are the series the simulation reads from a worker.
type simMetrics struct{ lag, active float64 }

var scrapeClient = &http.Client{Timeout: time.Second}

// scrape reads a worker's /metrics; ok is false when it could not.
func scrape(addr string) (simMetrics, bool) {
	if addr == "" {
		return simMetrics{}, false
	}
	res, err := scrapeClient.Get("http://" + addr + "/metrics")
	if err != nil {
		return simMetrics{}, false
	}
	defer res.Body.Close()
	var m simMetrics
	found := false
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		switch {
		case err != nil:
		case name == "soomcare_cdc_lag_seconds":
			m.lag, found = v, true
		case name == "soomcare_cdc_active":
			m.active = v
		}
	}
	return m, found
}

// observer samples the checkpoint and the workers' lag gauges every 250 ms.
type observer struct {
	stop    chan struct{}
	done    chan struct{}
	samples []lagSample // the highest lag any live worker reported, per tick
	regress []string    // checkpoints that went backwards
	max     State       // the furthest checkpoint seen
}

type lagSample struct {
	at  time.Time
	lag float64
}

func (s *sim) observe() *observer {
	o := &observer{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(o.done)
		store := NewStore(s.db, "default")
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-o.stop:
				return
			case <-tick.C:
			}
			o.checkpoint(s, store)
			o.lag(s)
		}
	}()
	s.t.Cleanup(o.halt)
	return o
}

// halt stops the observer and waits for it (idempotent).
func (o *observer) halt() {
	select {
	case <-o.stop:
	default:
		close(o.stop)
	}
	<-o.done
}

func (o *observer) checkpoint(s *sim, store *Store) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	st, err := store.Load(ctx)
	if err != nil {
		return // MariaDB down, or no checkpoint yet
	}
	if o.max.Position.File != "" && before(st.Position, o.max.Position) {
		o.regress = append(o.regress, fmt.Sprintf("t+%.1fs: checkpoint %s (%s) is behind %s seen before",
			time.Since(s.start).Seconds(), st.Position, st.Phase, o.max.Position))
		return
	}
	o.max = st
}

func (o *observer) lag(s *sim) {
	s.mu.Lock()
	addrs := make([]string, 0, len(s.workers))
	for _, w := range s.workers {
		addrs = append(addrs, w.metricsAddr())
	}
	s.mu.Unlock()
	best, any := 0.0, false
	for _, a := range addrs {
		if m, ok := scrape(a); ok {
			best, any = max(best, m.lag), true
		}
	}
	if any {
		o.samples = append(o.samples, lagSample{at: time.Now(), lag: best})
	}
}

// maxLag is the highest lag sampled in [from, to], of n samples.
func (o *observer) maxLag(from, to time.Time) (best float64, n int) {
	for _, x := range o.samples {
		if !x.at.Before(from) && !x.at.After(to) {
			best, n = max(best, x.lag), n+1
		}
	}
	return best, n
}

package indexer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/elastic/go-elasticsearch/v8"

	"github.com/soomcare/soomcare/engine"
)

// An engine that has served no searches for a while answers its first ones
// much slower (at 1M documents on two cores, the first 10 s after a build
// had 164 searches past the API's 2 s at 40 req/s; a swap under steady
// search traffic was not measurably cold: docs/benchmarks.md, Growth curves). Warm
// sends a new index the searches the API will send, one at a time, before
// the alias moves to it, so that live traffic never meets it cold.

// WarmOptions configure Warm.
type WarmOptions struct {
	// Bodies are search request bodies (searchapi.WarmBodies), sent in
	// order, one at a time, round after round.
	Bodies [][]byte
	// For bounds the warm-up; 0 turns it off. When it runs out before a
	// round settles, the warm-up ends without an error (Settled is false).
	For time.Duration
	// Settle ends the warm-up after a round whose slowest search took less
	// (default 100 ms). A round no faster than the one before (within a
	// tenth) ends it too: the index is as warm as searches make it, and a
	// busy machine may never bring every search under Settle.
	Settle time.Duration
}

// WarmReport says what Warm did.
type WarmReport struct {
	Searches int           // searches sent
	Rounds   int           // rounds begun
	First    time.Duration // the first search
	Slowest  time.Duration // the slowest search of the last round
	Took     time.Duration
	Settled  bool // the last round was under Settle, or no faster than the one before
}

func (r WarmReport) String() string {
	switch {
	case r.Rounds == 0:
		return "not warmed"
	case r.Searches == 0:
		return fmt.Sprintf("not warmed: time ran out before the first warm-up search answered (%s)", r.Took.Round(time.Millisecond))
	}
	how := "settled"
	if !r.Settled {
		how = "time ran out before a round settled"
	}
	return fmt.Sprintf("warmed by %d searches in %d rounds, %s (first %s, slowest of the last round %s; %s)",
		r.Searches, r.Rounds, r.Took.Round(time.Millisecond), r.First.Round(time.Millisecond), r.Slowest.Round(time.Millisecond), how)
}

// Warm sends o.Bodies to index, one at a time, round after round, until a
// round settles (see WarmOptions.Settle) or o.For runs out. A
// search the engine rejects is an error: the API's searches would fail on
// the index the same way, so a reindex must not move the alias to it.
func Warm(ctx context.Context, es *elasticsearch.Client, index string, o WarmOptions) (WarmReport, error) {
	var rep WarmReport
	if o.For <= 0 || len(o.Bodies) == 0 {
		return rep, nil
	}
	if o.Settle <= 0 {
		o.Settle = 100 * time.Millisecond
	}
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, o.For)
	defer cancel()
	var previous time.Duration
	for !rep.Settled {
		round := time.Now()
		rep.Rounds++
		rep.Slowest = 0
		for _, body := range o.Bodies {
			d, err := warmSearch(wctx, es, index, body)
			if err != nil {
				rep.Took = time.Since(start)
				if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
					return rep, nil // o.For ran out
				}
				return rep, fmt.Errorf("warm-up search %d on %s: %w", rep.Searches+1, index, err)
			}
			if rep.Searches == 0 {
				rep.First = d
			}
			rep.Searches++
			rep.Slowest = max(rep.Slowest, d)
		}
		took := time.Since(round)
		rep.Settled = rep.Slowest < o.Settle || (previous > 0 && took >= previous*9/10)
		previous = took
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// warmSearch runs one search and returns how long it took.
func warmSearch(ctx context.Context, es *elasticsearch.Client, index string, body []byte) (time.Duration, error) {
	t := time.Now()
	res, err := es.Search(es.Search.WithContext(ctx), es.Search.WithIndex(index), es.Search.WithBody(bytes.NewReader(body)))
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, err
	}
	defer res.Body.Close()
	if err := engine.CheckStatus(res); err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, res.Body)
	return time.Since(t), err
}

// WarmEach is the warm-up of each index for at most d (none when d is 0),
// with the searches bodies chooses for it (searchapi.Warmup); bodies is
// called only for an index that is warmed.
func WarmEach(d time.Duration, bodies func(name string) [][]byte) func(name string) WarmOptions {
	if d <= 0 {
		return func(string) WarmOptions { return WarmOptions{} }
	}
	return func(name string) WarmOptions { return WarmOptions{Bodies: bodies(name), For: d} }
}

package bulk

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// write is Write without its counters and log line: it sets invalid ops
// aside, hashes the others onto lanes and runs the lanes concurrently.
func (w *Writer) write(ctx context.Context, ops []Op) (Result, error) {
	var res Result
	if len(ops) == 0 {
		return res, nil
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("indexer: bulk write: %w", err)
	}

	lanes := make([][]int, w.opts.Concurrency)
	for pos := range ops {
		op := &ops[pos]
		if reason := validate(op); reason != "" {
			res.Failed = append(res.Failed, newItemError(pos, op, 0, "invalid_op", reason))
			continue
		}
		l := laneOf(op.Index, op.ID, len(lanes))
		lanes[l] = append(lanes[l], pos)
	}
	w.stats.failed.Add(int64(len(res.Failed)))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		results  = make([]Result, len(lanes))
		errOnce  sync.Once
		firstErr error
	)
	for l, lane := range lanes {
		if len(lane) == 0 {
			continue
		}
		wg.Go(func() {
			if err := w.runLane(ctx, ops, lane, &results[l]); err != nil {
				// The first failure wins; the others are its consequences.
				errOnce.Do(func() { firstErr = err })
				cancel()
			}
		})
	}
	wg.Wait()

	for _, r := range results {
		res.Indexed += r.Indexed
		res.Deleted += r.Deleted
		res.Conflicts += r.Conflicts
		res.NotFound += r.NotFound
		res.Retries += r.Retries
		res.Failed = append(res.Failed, r.Failed...)
	}
	slices.SortFunc(res.Failed, func(a, b ItemError) int { return cmp.Compare(a.Pos, b.Pos) })
	return res, firstErr
}

// runLane sends the ops at positions lane, in order, one request at a time.
func (w *Writer) runLane(ctx context.Context, ops []Op, lane []int, res *Result) error {
	for len(lane) > 0 {
		body, err := w.acquire(ctx)
		if err != nil {
			return err
		}
		n := w.fill(body, ops, lane)
		if err := w.deliver(ctx, body, ops, lane[:n], res); err != nil {
			return err
		}
		lane = lane[n:]
	}
	return nil
}

// fill encodes as many ops of lane as fit in one request into body (at least
// one) and returns how many.
func (w *Writer) fill(body *buffer, ops []Op, lane []int) int {
	b := body.b[:0]
	n := 0
	for _, pos := range lane {
		if n == w.opts.MaxOps {
			break
		}
		before := len(b)
		b = appendOp(b, &ops[pos])
		if len(b) > w.opts.MaxBytes && n > 0 {
			b = b[:before]
			break
		}
		n++
	}
	body.b = b
	return n
}

// deliver sends the request in body (the ops at positions batch) and re-sends
// what failed until it is settled or retries run out. It releases body.
func (w *Writer) deliver(ctx context.Context, body *buffer, ops []Op, batch []int, res *Result) error {
	pending := batch
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			var err error
			if body, err = w.acquire(ctx); err != nil {
				return err
			}
			b := body.b[:0]
			for _, pos := range pending {
				b = appendOp(b, &ops[pos])
			}
			body.b = b
			res.Retries++
			w.stats.retries.Add(1)
		}
		out := w.roundTrip(ctx, body.b, ops, pending)
		w.release(body)

		switch {
		case out.fatal != nil:
			return out.fatal
		case out.retryErr != nil:
			if attempt >= w.opts.MaxRetries {
				return fmt.Errorf("indexer: bulk request of %d ops failed after %d attempts: %w", len(pending), attempt+1, out.retryErr)
			}
			d := w.backoff(attempt + 1)
			if out.unanswered {
				// Re-sending at once would pile a second copy onto an engine
				// still busy with the first (the retry storm of a slow engine):
				// wait at least as long as the unanswered attempt did.
				d = max(d, out.waited)
			}
			w.logger.WarnContext(ctx, "bulk request failed, retrying", "ops", len(pending), "attempt", attempt+1,
				"backoff", d, "err", out.retryErr)
			if err := w.opts.Sleep(ctx, d); err != nil {
				return fmt.Errorf("indexer: bulk write: waiting to retry: %w", err)
			}
			continue
		}

		w.commit(res, &out.tally)
		if len(out.retry) == 0 {
			return nil
		}
		if attempt >= w.opts.MaxRetries {
			res.Failed = append(res.Failed, out.retryErrs...)
			w.stats.failed.Add(int64(len(out.retryErrs)))
			return nil
		}
		d := w.backoff(attempt + 1)
		w.logger.WarnContext(ctx, "bulk items rejected, retrying them", "items", len(out.retry), "ops", len(pending),
			"attempt", attempt+1, "backoff", d, "status", out.retryErrs[0].Status, "type", out.retryErrs[0].Type)
		if err := w.opts.Sleep(ctx, d); err != nil {
			return fmt.Errorf("indexer: bulk write: waiting to retry: %w", err)
		}
		pending = out.retry
	}
}

// outcome is what one _bulk round trip settled.
type outcome struct {
	fatal    error // give up now: ctx ended or the engine refused the request for good
	retryErr error // the whole request may be re-sent: connection error, 429, 5xx, unreadable answer
	// unanswered: the request was sent and no answer came (a timeout, a
	// connection lost mid-request): the engine may still be working on it
	// for as long again. waited is how long the attempt took.
	unanswered bool
	waited     time.Duration
	tally      tally
	retry      []int       // positions of the items to re-send (429/5xx)
	retryErrs  []ItemError // their errors, reported if retries run out
}

// tally counts the settled items of one response.
type tally struct {
	indexed, deleted, conflicts, notFound int
	failed                                []ItemError
}

func (w *Writer) commit(res *Result, t *tally) {
	res.Indexed += t.indexed
	res.Deleted += t.deleted
	res.Conflicts += t.conflicts
	res.NotFound += t.notFound
	res.Failed = append(res.Failed, t.failed...)
	w.stats.indexed.Add(int64(t.indexed))
	w.stats.deleted.Add(int64(t.deleted))
	w.stats.conflicts.Add(int64(t.conflicts))
	w.stats.notFound.Add(int64(t.notFound))
	w.stats.failed.Add(int64(len(t.failed)))
}

// laneOf hashes (index, id) with FNV-1a onto one of n lanes.
func laneOf(index, id string, n int) int {
	if n == 1 {
		return 0
	}
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := 0; i < len(index); i++ {
		h = (h ^ uint64(index[i])) * prime
	}
	h *= prime // a 0 byte between index and id
	for i := 0; i < len(id); i++ {
		h = (h ^ uint64(id[i])) * prime
	}
	return int(h % uint64(n))
}

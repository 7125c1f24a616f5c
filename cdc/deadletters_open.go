package cdc

import (
	"context"

	"github.com/soomcare/soomcare/internal/tick"
	"github.com/soomcare/soomcare/mappings"
)

// Open dead letters show wherever they were recorded. The counter
// soomcare_cdc_dead_letters_total counts what this process recorded; a
// `soomcare reindex` or rollback (another process) records its poisoned rows
// in the same table without moving it. So every worker, active or standby,
// also counts the pipeline's open letters in MySQL every DeadLetterPoll and
// publishes them as soomcare_cdc_dead_letters_open{index}: a document missing
// from search shows until its row is fixed (or retried), whoever found it.

// watchOpenLetters refreshes the gauge until ctx ends. A failed count (MySQL
// unreachable) leaves the last values.
func (w *Worker) watchOpenLetters(ctx context.Context) {
	known := map[string]bool{} // every index seen, so one that heals reads 0
	for _, n := range mappings.Names() {
		known[w.life.Alias(n)] = true
	}
	tick.Every(ctx, w.cfg.DeadLetterPoll, func() { w.countOpenLetters(ctx, known) })
}

func (w *Worker) countOpenLetters(ctx context.Context, known map[string]bool) {
	counts, err := w.store.OpenDeadLettersByIndex(ctx)
	if err != nil {
		return // the session's own retries log MySQL outages
	}
	for index := range counts {
		known[index] = true
	}
	for index := range known {
		w.metrics.OpenLetters.WithLabelValues(index).Set(float64(counts[index]))
	}
}

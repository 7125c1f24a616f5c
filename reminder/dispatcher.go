// Package reminder sends medication reminders and notices as push
// notifications through FCM HTTP v1 (fcm.go), and serves device-token
// registration and the admin notice endpoint (api.go).
//
// Exactly once per (schedule, due time), with any number of dispatchers:
//
//  1. plan: each tick, every live schedule's doses due in
//     [now − reminders.grace, now] are INSERTed into reminder_deliveries,
//     whose UNIQUE (schedule_id, due_at) makes the second insert a no-op;
//  2. claim: a dispatcher takes one pending row at a time with a conditional
//     UPDATE (status pending/retry, lease free, attempts unchanged) that only
//     one dispatcher can win; the lease runs Lease from the clock at the
//     claim, not from the start of the tick;
//  3. unless the dose is already recorded, send: before each device's request
//     the lease is renewed (only while still held and unexpired; otherwise
//     nothing more is sent), and each request is cut off after Lease/2, so
//     no request outlives the lease it renewed; then record the outcome:
//     sent, retry (with backoff, the lease released) or failed after
//     reminders.max_attempts. The outcome UPDATE matches only the claim this
//     dispatcher made (claimed_by and attempts); if another dispatcher
//     re-claimed the row it matches nothing, which is logged and counted
//     (Stats.LeaseLost), never silent.
//
// A dose the user has already recorded as taken or skipped for that due
// time (medication_intakes with the same schedule_id and scheduled_at =
// due_at, written by POST /v1/me/intakes) is not sent: the claimed row
// becomes already_recorded, a final state like sent, so it is decided once
// too. The check runs after the claim, right before each send attempt, so a
// dose recorded while its reminder waits for a retry is not sent either.
//
// The one gap is a crash (or a stall longer than the lease) between a
// successful send and step 3: the lease expires and the reminder is sent
// again (at-least-once for that instant; never twice otherwise). Doses due while every dispatcher was down longer
// than the grace are skipped, not sent late in a burst.
package reminder

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/soomcare/soomcare/care"
	"github.com/soomcare/soomcare/internal/tick"
	"github.com/soomcare/soomcare/medication"
)

// Options configure a Dispatcher.
type Options struct {
	Interval    time.Duration // between ticks
	Grace       time.Duration // how late a due dose is still reminded
	Lease       time.Duration // how long a claim or renewal reserves a delivery; each FCM request gets at most Lease/2
	MaxAttempts int
	Backoff     time.Duration // first retry delay; doubles per attempt
	Logger      *slog.Logger
	Now         func() time.Time
	ID          string // dispatcher name in claimed_by; random when empty
	// OnTick and OnSent, when set, see every tick's Stats and error in Run
	// and, per reminder sent, the time from its due instant to the recorded
	// send (metrics).
	OnTick func(Stats, error)
	OnSent func(dueToSent time.Duration)
}

// Dispatcher finds due doses and sends their reminders.
type Dispatcher struct {
	q      queue
	sender Sender
	opts   Options
	zones  *care.Zones
}

// NewDispatcher returns a dispatcher; zero options take defaults.
func NewDispatcher(db *sql.DB, sender Sender, opts Options) *Dispatcher {
	if opts.Interval <= 0 {
		opts.Interval = 30 * time.Second
	}
	if opts.Grace <= 0 {
		opts.Grace = 10 * time.Minute
	}
	if opts.Lease <= 0 {
		opts.Lease = time.Minute
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 5
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ID == "" {
		b := make([]byte, 6)
		rand.Read(b)
		opts.ID = "dispatcher-" + hex.EncodeToString(b)
	}
	return &Dispatcher{q: queue{db: db}, sender: sender, opts: opts, zones: &care.Zones{}}
}

// Run ticks until ctx ends; a failed tick is logged and retried next tick.
func (d *Dispatcher) Run(ctx context.Context) error {
	tick.Every(ctx, d.opts.Interval, func() {
		st, err := d.Tick(ctx)
		if d.opts.OnTick != nil {
			d.opts.OnTick(st, err)
		}
		if err != nil && ctx.Err() == nil {
			d.opts.Logger.Error("reminder tick failed", "err", err)
		} else if st.Claimed > 0 {
			d.opts.Logger.Info("reminders", "planned", st.Planned, "sent", st.Sent, "retry", st.Retry, "failed", st.Failed, "no_device", st.NoDevice, "already_recorded", st.Recorded, "lease_lost", st.LeaseLost, "token_delete_failed", st.TokenDeleteFailed)
		}
	})
	return nil
}

// Stats counts one tick's work.
type Stats struct {
	Planned, Claimed, Sent, Retry, Failed, NoDevice int
	Recorded                                        int // not sent: the dose was already recorded (already_recorded)
	// LeaseLost counts claimed rows whose lease ran out before a send (not
	// sent) or that another dispatcher re-claimed before the outcome was
	// recorded (outcome not written; logged as a warning).
	LeaseLost int
	// TokenDeleteFailed counts device tokens FCM called unregistered that
	// could not be deleted (logged as a warning; the next send to that
	// token tries again).
	TokenDeleteFailed int
}

// Tick plans the due doses and delivers what is pending.
func (d *Dispatcher) Tick(ctx context.Context) (Stats, error) {
	var st Stats
	now := d.opts.Now().UTC()
	n, err := d.plan(ctx, now)
	st.Planned = n
	if err != nil {
		return st, err
	}
	return st, d.deliver(ctx, now, &st)
}

type due struct {
	scheduleID, userID uint64
	at                 time.Time
}

// plan inserts a pending delivery for every dose due in [now-grace, now].
func (d *Dispatcher) plan(ctx context.Context, now time.Time) (int, error) {
	schedules, err := d.q.schedules(ctx)
	if err != nil {
		return 0, err
	}
	var dues []due
	for _, s := range schedules {
		rule, err := medication.MakeRule(d.zones, s.times, s.weekdays, s.tz, s.activeFrom, sql.NullTime{})
		if err != nil {
			d.opts.Logger.Warn("reminder: bad schedule", "schedule_id", s.id, "err", err)
			continue
		}
		for _, at := range rule.Occurrences(now.Add(-d.opts.Grace), now.Add(time.Nanosecond)) {
			dues = append(dues, due{s.id, s.userID, at.UTC()})
		}
	}
	return len(dues), d.q.plan(ctx, dues)
}

// deliver claims the pending rows one at a time and sends them. The
// candidates are read once per tick; each claim, lease renewal and outcome
// takes the clock again (opts.Now), so a long tick never works under a lease
// computed at its start.
func (d *Dispatcher) deliver(ctx context.Context, now time.Time, st *Stats) error {
	pending, err := d.q.candidates(ctx, now)
	if err != nil {
		return err
	}
	for _, r := range pending {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c, ok, err := d.claim(ctx, r)
		if err != nil {
			return err
		}
		if !ok {
			continue // another dispatcher has it, or had it since the candidates were read
		}
		st.Claimed++
		if err := d.process(ctx, c, st); err != nil {
			return err
		}
	}
	return nil
}

// claim is a delivery row this dispatcher holds. attempts (incremented by
// every claim) fences each later write: a row another dispatcher re-claimed
// after the lease expired no longer matches.
type claim struct {
	id, scheduleID, userID uint64
	dueAt                  time.Time
	attempts               int
}

// claim takes r with a lease of opts.Lease from the clock's current time; it
// fails (false) when the row changed since it was read or its lease is held.
func (d *Dispatcher) claim(ctx context.Context, r claim) (claim, bool, error) {
	at := d.opts.Now().UTC()
	ok, err := d.q.claim(ctx, r, d.opts.ID, at, at.Add(d.opts.Lease))
	if ok {
		r.attempts++
	}
	return r, ok, err
}

// errLeaseLost means the lease of a claimed row expired or another
// dispatcher re-claimed the row: this dispatcher must not send it.
var errLeaseLost = errors.New("reminder: lease lost")

// renew extends c's lease to opts.Lease from now, only while this dispatcher
// still holds an unexpired lease on it; errLeaseLost otherwise.
func (d *Dispatcher) renew(ctx context.Context, c claim) error {
	at := d.opts.Now().UTC()
	ok, err := d.q.renew(ctx, c, d.opts.ID, at, at.Add(d.opts.Lease))
	if err == nil && !ok {
		err = errLeaseLost
	}
	return err
}

// process sends one claimed row (unless its dose is already recorded) and
// records the outcome.
func (d *Dispatcher) process(ctx context.Context, c claim, st *Stats) error {
	var status, lastErr string
	lost := false
	switch recorded, err := d.q.doseRecorded(ctx, c.scheduleID, c.dueAt); {
	case err != nil:
		status, lastErr = "retry", err.Error()
	case recorded:
		status = "already_recorded"
	default:
		status, lastErr, lost = d.send(ctx, c, st)
	}
	now := d.opts.Now().UTC()
	next := now
	switch {
	case status == "retry" && c.attempts >= d.opts.MaxAttempts:
		status = "failed"
	case status == "retry":
		next = now.Add(d.opts.Backoff << min(c.attempts-1, 10))
	}
	o := outcome{status: status, lastErr: lastErr, next: next}
	if status == "sent" {
		o.sentAt = now
	}
	if len(o.lastErr) > 500 {
		o.lastErr = o.lastErr[:500]
	}
	// The outcome is written with a fresh context: a send that went out must
	// be recorded even while shutting down. It matches only while this
	// dispatcher still holds the claim (claimed_by and attempts): a lease that
	// merely expired is still ours until someone re-claims the row, and
	// recording the send then keeps it from going out twice.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	held, err := d.q.settle(wctx, c, d.opts.ID, o)
	cancel()
	if err != nil {
		return err
	}
	if !held {
		d.opts.Logger.Warn("reminder: lease lost before the outcome was recorded; another dispatcher re-claimed the row",
			"delivery_id", c.id, "schedule_id", c.scheduleID, "status", status)
		st.LeaseLost++
		return nil
	}
	if lost {
		st.LeaseLost++
	}
	if status == "sent" && d.opts.OnSent != nil {
		d.opts.OnSent(now.Sub(c.dueAt))
	}
	st.count(status)
	return nil
}

// count adds one outcome to the tick's counters.
func (st *Stats) count(status string) {
	switch status {
	case "sent":
		st.Sent++
	case "retry":
		st.Retry++
	case "failed":
		st.Failed++
	case "no_device":
		st.NoDevice++
	case "already_recorded":
		st.Recorded++
	}
}

// send pushes one reminder to every device of the user: "sent" when at least
// one device got it, "retry" when every failure may pass, "failed" when none
// will, "no_device" when the user has no device. Before each request it
// renews the lease and stops (lost) when the lease is gone; each request gets
// at most half a lease, so it ends before the lease it renewed expires.
// Device tokens that cannot all be read make it "retry", sending nothing.
func (d *Dispatcher) send(ctx context.Context, c claim, st *Stats) (status, lastErr string, lost bool) {
	dose, err := d.q.scheduledDose(ctx, c.scheduleID)
	if err != nil {
		return "retry", err.Error(), false
	}
	tokens, err := d.q.deviceTokens(ctx, c.userID)
	if err != nil {
		d.opts.Logger.Warn("reminder: device tokens unreadable; delivery retried", "delivery_id", c.id, "schedule_id", c.scheduleID, "err", err)
		return "retry", err.Error(), false
	}
	if len(tokens) == 0 {
		return "no_device", "", false
	}
	return d.pushAll(ctx, c, d.message(c, dose), tokens, st).result()
}

// scheduledDose is what a reminder of a schedule says: the medication, its
// dose and the schedule's time zone.
type scheduledDose struct {
	name, unit, tz string
	dose           float64
}

// message is the reminder of c's dose at its time in the schedule's zone
// (c.dueAt as it is when the zone cannot be loaded); Token is left to fill
// per device.
func (d *Dispatcher) message(c claim, s scheduledDose) Message {
	local := c.dueAt
	if loc, err := d.zones.Load(s.tz); err == nil {
		local = c.dueAt.In(loc)
	}
	return Message{
		Title: "복약 알림",
		Body:  fmt.Sprintf("%s %s%s 복용할 시간이에요 (%s)", s.name, trimDose(s.dose), s.unit, local.Format("15:04")),
		Data: map[string]string{
			"type": "medication_reminder", "schedule_id": fmt.Sprint(c.scheduleID), "due_at": c.dueAt.UTC().Format(time.RFC3339),
		},
	}
}

// pushes is the outcome of sending one reminder to a user's devices.
type pushes struct {
	sent      int
	retryable bool // some failure may pass
	lost      bool // the lease was lost before a send
	errs      []string
}

// pushAll sends msg to each token in turn, renewing c's lease before each
// request and stopping when it cannot.
func (d *Dispatcher) pushAll(ctx context.Context, c claim, msg Message, tokens []string, st *Stats) pushes {
	var p pushes
	for _, tok := range tokens {
		if err := d.renew(ctx, c); err != nil {
			if errors.Is(err, errLeaseLost) {
				p.lost = true
				d.opts.Logger.Warn("reminder: lease expired before a send; not sending", "delivery_id", c.id, "schedule_id", c.scheduleID)
			}
			p.retryable = true
			p.errs = append(p.errs, err.Error())
			break
		}
		d.push(ctx, c, msg, tok, st, &p)
	}
	return p
}

// push sends msg to one device (forgetting the token when FCM calls it
// unregistered) and adds the outcome to p.
func (d *Dispatcher) push(ctx context.Context, c claim, msg Message, tok string, st *Stats, p *pushes) {
	msg.Token = tok
	sctx, cancel := context.WithTimeout(ctx, d.opts.Lease/2)
	err := d.sender.Send(sctx, msg)
	cancel()
	var se *SendError
	switch {
	case err == nil:
		p.sent++
		return
	case errors.Is(err, ErrUnregistered):
		d.forgetToken(ctx, c, tok, st)
	case errors.As(err, &se) && !se.Retryable:
		// will not pass: neither retryable nor a token to forget
	default:
		p.retryable = true
	}
	p.errs = append(p.errs, err.Error())
}

// result is send's answer for p.
func (p pushes) result() (status, lastErr string, lost bool) {
	lastErr = strings.Join(p.errs, "; ")
	switch {
	case p.sent > 0:
		return "sent", lastErr, p.lost
	case p.retryable:
		return "retry", lastErr, p.lost
	default:
		return "failed", lastErr, p.lost
	}
}

// tokenRows is what scanTokens reads: *sql.Rows.
type tokenRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

func scanTokens(rows tokenRows) ([]string, error) {
	var tokens []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("reminder: device tokens: %w", err)
		}
		tokens = append(tokens, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reminder: device tokens: %w", err)
	}
	return tokens, nil
}

// forgetToken deletes a token FCM called unregistered. A failed delete is
// logged (without the token) and counted; the token stays, and the next
// reminder to it tries again.
func (d *Dispatcher) forgetToken(ctx context.Context, c claim, tok string, st *Stats) {
	if err := (DeviceStore{}).Remove(ctx, d.q.db, c.userID, tok); err != nil && !errors.Is(err, care.ErrNotFound) { // gone already: fine
		st.TokenDeleteFailed++
		d.opts.Logger.Warn("reminder: could not delete an unregistered device token",
			"delivery_id", c.id, "user_id", c.userID, "err", err)
	}
}

func trimDose(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/reminder"
	"github.com/soomcare/soomcare/telemetry"
)

// newRemindersCmd is `soomcare reminders`: the medication reminder
// dispatcher, and `soomcare reminders notice` for a notice to every user.
// (Register it in newRoot: root.AddCommand(newRemindersCmd(e)).)
func newRemindersCmd(e *env) *cobra.Command {
	var once bool
	cmd := &cobra.Command{
		Use:   "reminders",
		Short: "Send medication reminders (FCM push) as doses fall due",
		Long: `Run the reminder dispatcher: every reminders.interval it finds the doses due in the last
reminders.grace (each schedule's times of day in its own time zone, daylight-saving safe) and sends
each one once through FCM HTTP v1 (push.*) to the user's devices. Any number of dispatchers may run,
here and inside serve (reminders.in_serve): the reminder_deliveries table makes each (schedule,
due time) go out once. Failed sends are retried reminders.max_attempts times with backoff.
Metrics (not with --once): http://<reminders.metrics_addr>/metrics (Prometheus; empty = off), /healthz.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.runReminders(cmd.Context(), once)
		},
	}
	cmd.Flags().BoolVar(&once, "once", false, "run one pass and exit (cron)")
	cmd.AddCommand(newRemindersNoticeCmd(e))
	return cmd
}

// runReminders builds the dispatcher (cli/roots.go) and runs it, or one
// pass with once.
func (e *env) runReminders(ctx context.Context, once bool) error {
	if !once {
		return runRoot(ctx, e, newRemindersRoot)
	}
	return runRoot(ctx, e, func(ctx context.Context, e *env, c *config.Config) (remindersOnce, error) {
		r, err := newRemindersRoot(ctx, e, c)
		return remindersOnce{r, e.stdout}, err
	})
}

// remindersOnce is one pass of the dispatcher (--once), its counts printed.
type remindersOnce struct {
	*remindersRoot
	out io.Writer
}

func (r remindersOnce) Run(ctx context.Context) error {
	st, err := r.Tick(ctx)
	fmt.Fprintf(r.out, "planned %d, sent %d, retry %d, failed %d, no device %d\n", st.Planned, st.Sent, st.Retry, st.Failed, st.NoDevice)
	return err
}

// newRemindersNoticeCmd is `soomcare reminders notice`.
func newRemindersNoticeCmd(e *env) *cobra.Command {
	var title, body string
	notice := &cobra.Command{
		Use:   "notice",
		Short: "Send a notice to every user (one FCM message to the topic \"notices\")",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.config()
			if err != nil {
				return err
			}
			if title == "" || body == "" {
				return usageError{errors.New("reminders notice: --title and --body are required")}
			}
			sender, err := pushSender(c)
			if err != nil {
				return err
			}
			if sender == nil {
				return usageError{errors.New("reminders notice: push.project_id is empty")}
			}
			if err := sender.Send(cmd.Context(), reminder.Message{Topic: reminder.NoticeTopic, Title: title, Body: body, Data: map[string]string{"type": "notice"}}); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, "sent to topic", reminder.NoticeTopic)
			return nil
		},
	}
	notice.Flags().StringVar(&title, "title", "", "notification title")
	notice.Flags().StringVar(&body, "body", "", "notification body")
	return notice
}

// pushSender builds the FCM client from push.*; nil when push is off.
func pushSender(c *config.Config) (reminder.Sender, error) {
	if !c.Push.Enabled() {
		return nil, nil
	}
	client := &http.Client{Timeout: c.Push.Timeout}
	var tokens reminder.TokenSource = reminder.StaticToken(c.Push.StaticToken)
	if c.Push.CredentialsFile != "" {
		sa, err := reminder.LoadServiceAccount(c.Push.CredentialsFile, client)
		if err != nil {
			return nil, &config.Error{Key: "push.credentials_file", Reason: err.Error()}
		}
		tokens = sa
	}
	return reminder.NewFCM(c.Push.Endpoint, c.Push.ProjectID, tokens, client), nil
}

// newDispatcher builds the dispatcher; its series (soomcare_reminder_*) go to reg.
func newDispatcher(c *config.Config, db *sql.DB, sender reminder.Sender, log *slog.Logger, reg prometheus.Registerer) *reminder.Dispatcher {
	m := telemetry.NewReminders(reg)
	return reminder.NewDispatcher(db, sender, reminder.Options{
		Interval: c.Reminders.Interval, Grace: c.Reminders.Grace, MaxAttempts: c.Reminders.MaxAttempts,
		Backoff: c.Reminders.Backoff, Lease: 2 * c.Push.Timeout, Logger: log, OnTick: observeReminders(m), OnSent: m.Sent,
	})
}

// observeReminders hands each pass's reminder.Stats to the metrics.
func observeReminders(m *telemetry.Reminders) func(reminder.Stats, error) {
	return func(st reminder.Stats, err error) {
		m.Observe(telemetry.ReminderTick{Planned: st.Planned, Sent: st.Sent, Retry: st.Retry, Failed: st.Failed,
			NoDevice: st.NoDevice, Recorded: st.Recorded, LeaseLost: st.LeaseLost, TokenDeleteFailed: st.TokenDeleteFailed, Err: err})
	}
}

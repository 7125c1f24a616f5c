package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/medication"
	"github.com/soomcare/soomcare/records"
	"github.com/soomcare/soomcare/reminder"
	"github.com/soomcare/soomcare/report"
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
			ctx := cmd.Context()
			c, err := e.config()
			if err != nil {
				return err
			}
			log := e.logger(c)
			sender, err := pushSender(c)
			if err != nil {
				return err
			}
			if sender == nil {
				return usageError{errors.New("reminders: push.project_id is empty: configure push.* (see config.example.yaml)")}
			}
			reg := telemetry.NewRegistry()
			db, err := openMySQLLogged(ctx, c, log, reg) // slow statements at warn; statement latency on /metrics
			if err != nil {
				return err
			}
			defer db.Close()
			d := newDispatcher(c, db, sender, log, reg)
			if once {
				st, err := d.Tick(ctx)
				fmt.Fprintf(e.stdout, "planned %d, sent %d, retry %d, failed %d, no device %d\n", st.Planned, st.Sent, st.Retry, st.Failed, st.NoDevice)
				return err
			}
			log.Info("starting", "command", "reminders", "version", Version, "interval", c.Reminders.Interval)
			if err := telemetry.RegisterDB(reg, db, "soomcare"); err != nil {
				return err
			}
			stopMetrics, err := telemetry.Start(ctx, "reminders.metrics_addr", c.Reminders.MetricsAddr, reg, log)
			if err != nil {
				return err
			}
			defer stopMetrics()
			return d.Run(ctx)
		},
	}
	cmd.Flags().BoolVar(&once, "once", false, "run one pass and exit (cron)")
	cmd.AddCommand(newRemindersNoticeCmd(e))
	return cmd
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
			NoDevice: st.NoDevice, Recorded: st.Recorded, LeaseLost: st.LeaseLost, Err: err})
	}
}

// careMounts wires records, medications, devices/notices, calendar and
// reports for serve; they rely on the auth middleware mounted before them.
// With reminders.in_serve (and push configured) the dispatcher runs until ctx
// ends, its series on serve's registry reg.
func careMounts(ctx context.Context, c *config.Config, db *sql.DB, log *slog.Logger, reg prometheus.Registerer) ([]func(*gin.Engine), error) {
	sender, err := pushSender(c)
	if err != nil {
		return nil, err
	}
	if c.Reminders.InServe {
		if sender == nil {
			return nil, &config.Error{Key: "reminders.in_serve", Reason: "needs push.project_id and credentials"}
		}
		go newDispatcher(c, db, sender, log, reg).Run(ctx)
	}
	return []func(*gin.Engine){
		records.New(db, records.Options{Logger: log}).Mount,
		medication.New(db, medication.Options{Logger: log}).Mount,
		reminder.NewAPI(db, sender, nil, log).Mount,
		report.New(db, report.Options{Logger: log, CalendarCache: calendarCache(c.Calendar.CacheEntries)}).Mount,
	}, nil
}

// calendarCache maps calendar.cache_entries (0 = off) onto
// report.Options.CalendarCache (0 = the default, negative = off).
func calendarCache(entries int) int {
	if entries == 0 {
		return -1
	}
	return entries
}

// Package cli is the command tree of the soomcare binary. Main is the whole
// program: tests call it in-process or build the binary and run it.
package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/ecslog"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/telemetry"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1 // the command ran and failed (dependency down, bad data)
	ExitUsage   = 2 // bad flags, arguments or configuration
)

// Version is set at build time with -ldflags "-X github.com/soomcare/soomcare/cli.Version=…".
var Version = "dev"

// usageError marks errors that are the caller's fault (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// env is what every command receives: streams, environment, and the lazily
// loaded configuration.
type env struct {
	stdout, stderr io.Writer
	environ        []string
	configPath     string
	service        string // service.name of JSON log lines (serviceName)
}

// Main runs the program with args (without the program name) and returns the
// process exit code. Errors are printed as one line on stderr.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	e := &env{stdout: stdout, stderr: stderr, environ: environ}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(stderr, "soomcare: "+strings.Join(strings.Fields(err.Error()), " "))
	return exitCode(err)
}

// exitCode is the process exit code of a command's error.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ue usageError
	var ec exitCoder
	switch {
	case errors.As(err, &ec):
		return ec.ExitCode()
	case errors.As(err, &ue), config.IsConfigError(err), isCobraUsage(err):
		return ExitUsage
	default:
		return ExitFailure
	}
}

func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "invalid argument", "flag needs an argument", "requires exactly"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "soomcare",
		Short:         "숨케어 (SoomCare) platform: API server, CDC worker, search index and schema tools",
		Long:          rootHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		CompletionOptions: cobra.CompletionOptions{
			DisableDefaultCmd: true,
		},
	}
	root.PersistentFlags().StringVar(&e.configPath, "config", "", "YAML configuration file (default: $SOOMCARE_CONFIG, else built-in defaults)")
	var cpuProfile string
	root.PersistentFlags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the command to this file (go tool pprof)")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		e.service = serviceName(cmd)
		return startCPUProfile(cpuProfile)
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newServeCmd(e),
		newMigrateCmd(e),
		newVersionCmd(e),
		newCDCCmd(e),
		newVerifyCmd(e),
		newRemindersCmd(e),
		newBenchCmd(e),
		newReindexCmd(e),
		newAnalyzeCmd(e),
		newSeedCmd(e),
		newEmailsCmd(e),
		newLogsCmd(e),
		newInsightsCmd(e),
		newSuggestionsCmd(e),
		newDictCmd(e),
		newSynonymsCmd(e),
		newUsersCmd(e),
	)
	return root
}

const rootHelp = `soomcare is the one binary of the 숨케어 asthma self-care backend.

MySQL is the source of truth. The CDC worker (soomcare cdc) streams the binlog into Korean (nori)
search indices; the API (soomcare serve) answers the app; editors rebuild indices (soomcare reindex).

Configuration: built-in defaults, then the YAML file given by --config (or SOOMCARE_CONFIG),
then SOOMCARE_* environment variables (search.engine -> SOOMCARE_SEARCH_ENGINE).
Every key is documented in config.example.yaml.

Exit codes: 0 ok, 1 failure, 2 bad usage or configuration; soomcare cdc adds 4, 5, 6 and 7 (see its help).`

// startCPUProfile writes a CPU profile of the command to path ("" = none)
// until the command ends.
func startCPUProfile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return usageError{fmt.Errorf("--cpuprofile: %w", err)}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	cobra.OnFinalize(func() {
		pprof.StopCPUProfile()
		f.Close()
	})
	return nil
}

// config loads the configuration once per command.
func (e *env) config() (*config.Config, error) {
	path := e.configPath
	if path == "" {
		for _, kv := range e.environ {
			if v, ok := strings.CutPrefix(kv, "SOOMCARE_CONFIG="); ok {
				path = v
			}
		}
	}
	return config.Load(path, e.environ)
}

// logger writes log.format lines at log.level to stderr (ecslog: ECS JSON
// or text, with the attributes of each line's context).
func (e *env) logger(c *config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Log.Level))
	return ecslog.New(e.stderr, ecslog.Options{Format: c.Log.Format, Level: level, Service: e.service})
}

// serviceName is service.name for a command: soomcare-api for serve (the
// Prometheus job's name), soomcare-<command> for the others.
func serviceName(cmd *cobra.Command) string {
	for cmd.HasParent() && cmd.Parent().HasParent() {
		cmd = cmd.Parent()
	}
	if cmd.Name() == "serve" {
		return "soomcare-api"
	}
	return "soomcare-" + cmd.Name()
}

// start is how long-running commands begin: configuration, then open.
func (e *env) start(ctx context.Context, command string, reg prometheus.Registerer) (*config.Config, *slog.Logger, *sql.DB, *engine.Client, error) {
	c, err := e.config()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	log, db, es, err := e.open(ctx, c, command, reg)
	return c, log, db, es, err
}

// open is the start of a long-running command once its configuration is
// loaded: logger, a log line with the masked configuration, then MySQL and
// the engine (waiting for both). With reg, every statement's and engine
// call's latency goes to its histograms (the process's /metrics); nil: none.
func (e *env) open(ctx context.Context, c *config.Config, command string, reg prometheus.Registerer) (*slog.Logger, *sql.DB, *engine.Client, error) {
	log := e.logger(c)
	log.Info("starting", "command", command, "version", Version, "config", c.Masked())
	for _, w := range c.Warnings() {
		log.Warn(w)
	}
	db, err := openMySQLLogged(ctx, c, log, reg)
	if err != nil {
		return nil, nil, nil, err
	}
	es, err := openEngineLogged(ctx, c, log, reg)
	if err != nil {
		db.Close()
		return nil, nil, nil, err
	}
	return log, db, es, nil
}

// configAndDB loads the configuration and opens MySQL, waiting for it.
func (e *env) configAndDB(ctx context.Context) (*config.Config, *sql.DB, error) {
	return configAnd(ctx, e, openMySQL)
}

// configAndEngine loads the configuration and builds the search client,
// waiting for the engine.
func (e *env) configAndEngine(ctx context.Context) (*config.Config, *engine.Client, error) {
	return configAnd(ctx, e, openEngine)
}

// configAnd loads the configuration, then opens what open opens with it.
func configAnd[T any](ctx context.Context, e *env, open func(context.Context, *config.Config) (T, error)) (*config.Config, T, error) {
	var none T
	c, err := e.config()
	if err != nil {
		return nil, none, err
	}
	v, err := open(ctx, c)
	if err != nil {
		return nil, none, err
	}
	return c, v, nil
}

// withConfigDB runs fn with the configuration and MySQL open (configAndDB),
// closing it after.
func (e *env) withConfigDB(ctx context.Context, fn func(*config.Config, *sql.DB) error) error {
	c, db, err := e.configAndDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(c, db)
}

// withMySQL is withConfigDB for fn that needs only the pool.
func (e *env) withMySQL(ctx context.Context, fn func(*sql.DB) error) error {
	return e.withConfigDB(ctx, func(_ *config.Config, db *sql.DB) error { return fn(db) })
}

// openMySQL opens the pool and waits for the server up to startup.wait_timeout.
func openMySQL(ctx context.Context, c *config.Config) (*sql.DB, error) {
	return openMySQLLogged(ctx, c, nil, nil)
}

// openMySQLLogged is openMySQL whose statements slower than
// mysql.slow_query_threshold log at warn on log (nil: none), and whose
// statements' latencies go to reg's statement histogram (nil: none).
func openMySQLLogged(ctx context.Context, c *config.Config, log *slog.Logger, reg prometheus.Registerer) (*sql.DB, error) {
	var observe func(string, time.Duration, bool)
	if reg != nil {
		observe = telemetry.NewStatements(reg).Observe
	}
	db, err := mysql.Open(ctx, c.MySQL.DSN, mysql.Options{
		Observe:         observe,
		MaxOpenConns:    c.MySQL.MaxOpenConns,
		MaxIdleConns:    c.MySQL.MaxIdleConns,
		ConnMaxLifetime: c.MySQL.ConnMaxLifetime,
		SlowThreshold:   c.MySQL.SlowQueryThreshold,
		Logger:          log,
	})
	if err != nil {
		return nil, usageError{fmt.Errorf("mysql.dsn: %w", err)}
	}
	where := "MySQL"
	if d, err := mysql.ParseDSN(c.MySQL.DSN); err == nil {
		where = "MySQL at " + d.Addr
	}
	err = waitFor(ctx, c.Startup.WaitTimeout, c.MySQL.ConnectTimeout, where, func(ctx context.Context) error {
		return mysql.Ping(ctx, db)
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// openEngine builds the search client and waits for the engine.
func openEngine(ctx context.Context, c *config.Config) (*engine.Client, error) {
	return openEngineLogged(ctx, c, nil, nil)
}

// openEngineLogged is openEngine whose calls slower than
// search.slow_call_threshold log at warn on log (nil: none), and whose
// calls' latencies go to reg's engine call histogram (nil: none).
func openEngineLogged(ctx context.Context, c *config.Config, log *slog.Logger, reg prometheus.Registerer) (*engine.Client, error) {
	opts := engine.Options{Logger: log}
	if reg != nil {
		opts.Observe = telemetry.NewEngineCalls(reg).Observe
	}
	es, err := engine.NewWith(c.Search, opts)
	if err != nil {
		return nil, err
	}
	where := fmt.Sprintf("search engine (%s) at %s", es.Kind, strings.Join(es.Addresses, ","))
	err = waitFor(ctx, c.Startup.WaitTimeout, c.Search.RequestTimeout, where, func(ctx context.Context) error {
		_, err := es.Info(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return es, nil
}

// waitFor retries check until it succeeds or total elapses (0: one attempt).
// Each attempt is bounded by per. A wrong-product answer is not retried.
func waitFor(ctx context.Context, total, per time.Duration, what string, check func(context.Context) error) error {
	deadline := time.Now().Add(total)
	for {
		actx, cancel := context.WithTimeout(ctx, per)
		err := check(actx)
		cancel()
		if err == nil {
			return nil
		}
		if errors.Is(err, engine.ErrWrongProduct) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s is unreachable (waited %s, startup.wait_timeout): %w", what, total, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the build version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			goVersion, rev := "", ""
			if bi, ok := debug.ReadBuildInfo(); ok {
				goVersion = bi.GoVersion
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" {
						rev = s.Value
					}
				}
			}
			fmt.Fprintf(e.stdout, "soomcare %s (%s", Version, goVersion)
			if rev != "" {
				fmt.Fprintf(e.stdout, ", commit %.12s", rev)
			}
			fmt.Fprintln(e.stdout, ")")
			return nil
		},
	}
}

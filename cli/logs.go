package cli

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/logstore"
)

func newLogsCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Log storage in the engine: template, data stream, lifecycle (setup, rollover, prune)",
		Long: `The processes write one JSON line per event (log.format: json); a shipper (ops/filebeat/filebeat.yml)
sends them to the data stream logs.data_stream. These commands prepare and maintain that stream.

  soomcare logs setup      lifecycle policy (ILM on Elasticsearch, ISM on OpenSearch), index template, data stream
  soomcare logs rollover   roll the write index over when logs.rollover_size/rollover_age is reached (core API)
  soomcare logs prune      delete backing indices rolled over more than logs.retention ago (core API)

rollover and prune do what the lifecycle policy does, for engines without one (setup says so);
run them from cron there.`,
	}
	cmd.AddCommand(newLogsSetupCmd(e), newLogsRolloverCmd(e), newLogsPruneCmd(e))
	return cmd
}

// logStore loads the configuration and connects to the engine.
func (e *env) logStore(cmd *cobra.Command) (*logstore.Store, *config.Config, *engine.Client, error) {
	c, es, err := e.configAndEngine(cmd.Context())
	if err != nil {
		return nil, nil, nil, err
	}
	return logstore.New(es, logstore.OptionsFrom(c.Logs)), c, es, nil
}

func newLogsSetupCmd(e *env) *cobra.Command {
	var requireLifecycle bool
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Install the lifecycle policy, the index template and the data stream (idempotent)",
		Long: `Install, in this order: the lifecycle policy (ILM on Elasticsearch, ISM on OpenSearch, named
logs.data_stream), the index template (ECS mappings, exactly the data stream's name) and the data
stream. It first asks the engine what it offers and prints it: an engine without the lifecycle
plugin gets the template and the data stream, and the output says that nothing will roll over or
be deleted by itself (use soomcare logs rollover / prune from cron). With --require-lifecycle that
case installs nothing and exits 1 instead of 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, _, es, err := e.logStore(cmd)
			if err != nil {
				return err
			}
			setup := store.Setup
			if requireLifecycle {
				setup = store.SetupRequiringLifecycle
			}
			rep, err := setup(cmd.Context())
			printSetup(e.stdout, es, rep)
			if errors.Is(err, logstore.ErrNoLifecycle) {
				return errors.New("logs setup: --require-lifecycle: the engine has no lifecycle support (see above); nothing was installed")
			}
			if err != nil {
				return fmt.Errorf("logs setup: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&requireLifecycle, "require-lifecycle", false, "exit 1 when the engine has no ILM/ISM (for deployments that must not fill the disk)")
	return cmd
}

func printSetup(w io.Writer, es *engine.Client, rep logstore.Report) {
	fmt.Fprintf(w, "engine: %s at %s\n", es.Kind, strings.Join(es.Addresses, ","))
	api := "yes"
	if !rep.Caps.DataStreamAPI {
		api = "no"
	}
	life := strings.ToUpper(rep.Caps.Lifecycle)
	if life == "" {
		life = "none"
	}
	fmt.Fprintf(w, "offers: data stream API %s, lifecycle %s (%s)\n", api, life, rep.Caps.Probe)
	for _, s := range rep.Steps {
		mark := "✓"
		if strings.HasPrefix(s.Result, "not available") {
			mark = "✗"
		}
		fmt.Fprintf(w, "  %s %s: %s\n", mark, s.What, s.Result)
		if s.Note != "" {
			fmt.Fprintf(w, "      %s\n", s.Note)
		}
	}
}

func newLogsRolloverCmd(e *env) *cobra.Command {
	var now bool
	cmd := &cobra.Command{
		Use:   "rollover",
		Short: "Roll the log data stream over once logs.rollover_age or logs.rollover_size is reached",
		Long: `Roll the data stream over through the core _rollover API when its write index is older than
logs.rollover_age or its primary shard larger than logs.rollover_size (--now: unconditionally, e.g.
after a template change). Needed only where the engine has no lifecycle plugin; harmless elsewhere.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, c, _, err := e.logStore(cmd)
			if err != nil {
				return err
			}
			res, err := store.Rollover(cmd.Context(), now)
			if err != nil {
				return fmt.Errorf("logs rollover: %w", err)
			}
			if res.RolledOver {
				fmt.Fprintf(e.stdout, "rolled over: %s -> %s\n", res.OldIndex, res.NewIndex)
				return nil
			}
			fmt.Fprintf(e.stdout, "not rolled over: write index %s is younger than logs.rollover_age (%s) and smaller than logs.rollover_size (%s)%s\n",
				res.OldIndex, c.Logs.RolloverAge, c.Logs.RolloverSize, conditionsNote(res.Conditions))
			return nil
		},
	}
	cmd.Flags().BoolVar(&now, "now", false, "roll over unconditionally")
	return cmd
}

func newLogsPruneCmd(e *env) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Delete log backing indices rolled over more than logs.retention ago",
		Long: `Delete the data stream's backing indices that were rolled over more than logs.retention ago (the
rollover time is the creation time of the next backing index), never the write index. This is the
lifecycle policy's delete step for engines without one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, c, _, err := e.logStore(cmd)
			if err != nil {
				return err
			}
			deleted, err := store.Prune(cmd.Context(), time.Now(), dryRun)
			verb := "deleted"
			if dryRun {
				verb = "would delete"
			}
			for _, index := range deleted {
				fmt.Fprintf(e.stdout, "%s %s\n", verb, index)
			}
			if err != nil {
				return fmt.Errorf("logs prune: %w", err)
			}
			if len(deleted) == 0 {
				fmt.Fprintf(e.stdout, "nothing older than logs.retention (%s)\n", c.Logs.Retention)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list what would be deleted")
	return cmd
}

// conditionsNote lists the engine's rollover conditions as checked, e.g.
// " (conditions: [max_age: 1d] not met, [max_size: 1gb] not met)"; "" when
// it sent none.
func conditionsNote(conds map[string]bool) string {
	if len(conds) == 0 {
		return ""
	}
	keys := make([]string, 0, len(conds))
	for k := range conds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		met := "not met"
		if conds[k] {
			met = "met"
		}
		parts[i] = k + " " + met
	}
	return " (conditions: " + strings.Join(parts, ", ") + ")"
}

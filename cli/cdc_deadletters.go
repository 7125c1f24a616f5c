package cli

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/cdc"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/mappings"
)

// newCDCDeadLettersCmd is `soomcare cdc dead-letters list|retry|dismiss`.
func newCDCDeadLettersCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dead-letters",
		Short: "List, retry or dismiss the CDC's dead letters",
		Long: `A dead letter is a row the CDC could not index, recorded in cdc_dead_letters with its index,
document id, the binlog version of the event and a reason (never the row's content):
  source row     the row cannot become a document (malformed JSON in a JSON column, a value out of
                 a field's range, an unreadable id). Its document is deleted from the index while
                 the row stays bad, so search never shows a stale state.
  source engine  the engine refused the document (a mapping error, a term too long).
The stream never stops for a dead letter. It stays open until a later change of the row is
acknowledged by the engine (fix the row in MySQL: the CDC heals it by itself), 'retry' succeeds,
or an operator dismisses it ('dismiss ID…': for letters nothing can heal, e.g. an unreadable id).
Open letters feed the alert SoomcareCDCDeadLettersOpen.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newCDCDeadLettersListCmd(e), newCDCDeadLettersRetryCmd(e), newCDCDeadLettersDismissCmd(e))
	return cmd
}

type deadLetterFlags struct {
	table string
	id    uint64
}

func (f *deadLetterFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.table, "table", "", "only this index's dead letters: users, contents or posts")
	cmd.Flags().Uint64Var(&f.id, "id", 0, "only this row's (primary key)")
}

// filter turns the flags into a store filter; alias maps a logical index to its alias.
func (f *deadLetterFlags) filter(alias func(string) string) (cdc.DeadLetterFilter, error) {
	var out cdc.DeadLetterFilter
	if f.table != "" {
		if _, err := indexer.Table(f.table); err != nil {
			return out, usageError{fmt.Errorf("--table: %w", err)}
		}
		out.Index = alias(f.table)
	}
	if f.id > 0 {
		out.DocID = strconv.FormatUint(f.id, 10)
	}
	return out, nil
}

func newCDCDeadLettersListCmd(e *env) *cobra.Command {
	var (
		f   deadLetterFlags
		all bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Print the open dead letters (--all: resolved ones too)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.config()
			if err != nil {
				return err
			}
			return e.withCDCStore(cmd.Context(), func(store *cdc.Store) error {
				es, err := engine.New(c.Search)
				if err != nil {
					return err
				}
				filter, err := f.filter(newLifecycle(c, es).Alias)
				if err != nil {
					return err
				}
				filter.All = all
				letters, err := store.ListDeadLetters(cmd.Context(), filter)
				if err != nil {
					return err
				}
				printDeadLetters(e.stdout, letters)
				return nil
			})
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVar(&all, "all", false, "include resolved dead letters")
	return cmd
}

func newCDCDeadLettersRetryCmd(e *env) *cobra.Command {
	var f deadLetterFlags
	cmd := &cobra.Command{
		Use:   "retry",
		Short: "Re-read the rows of open dead letters and write them to the index",
		Long: `Re-read from MySQL the rows of the open dead letters (all, or --table/--id) and write them through
the CDC's path (the index alias, external versions). Each document is written with the version of
the newest event that failed for it, never a newer one: a write the CDC made since (a later event)
has a higher version and wins, so a retry can never regress the index, and the row's current state
is what is written. Acknowledged documents get their dead letters resolved; rows that still cannot
become documents, and documents the engine refuses again, stay open (the reason is printed).
Run it after fixing a mapping or the engine; a row fixed in MySQL heals by itself.
Exits 0 when every retried document was written (or there was nothing open), 1 when any still fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, db, err := e.configAndDB(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			es, err := engine.New(c.Search)
			if err != nil {
				return err
			}
			store := cdc.NewStore(db, "default")
			life := newLifecycle(c, es)
			filter, err := f.filter(life.Alias)
			if err != nil {
				return err
			}
			letters, err := store.ListDeadLetters(ctx, filter)
			if err != nil {
				return err
			}
			indexOf := map[string]string{}
			for _, name := range mappings.Names() {
				indexOf[life.Alias(name)] = name
			}
			writer := bulk.NewWriter(es.ES, bulk.Options{RequireAlias: true}, e.logger(c))
			rep, err := cdc.RetryDeadLetters(ctx, store, indexer.NewSource(db), writer, indexOf, letters)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "resolved %d documents, %d still failing\n", len(rep.Resolved), len(rep.Failed))
			for k, why := range rep.Failed {
				fmt.Fprintf(e.stdout, "  %s/%s: %s\n", k.Index, k.DocID, why)
			}
			if len(rep.Failed) > 0 {
				return fmt.Errorf("%d documents still failing (see above); their dead letters stay open", len(rep.Failed))
			}
			return nil
		},
	}
	f.add(cmd)
	return cmd
}

// printDeadLetters writes letters as a table.
func printDeadLetters(w io.Writer, letters []cdc.DeadLetterRecord) {
	if len(letters) == 0 {
		fmt.Fprintln(w, "no dead letters")
		return
	}
	tw := newTableWriter(w)
	fmt.Fprintln(tw, "ID\tINDEX\tDOC\tSOURCE\tVERSION\tRECORDED\tRESOLVED\tREASON")
	for _, l := range letters {
		resolved := "open"
		if l.ResolvedAt != nil {
			resolved = l.ResolvedAt.UTC().Format(time.RFC3339)
		}
		reason := l.Type
		if l.Reason != "" {
			reason += ": " + l.Reason
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", l.ID, l.Index, l.DocID, l.Source, l.Version,
			l.CreatedAt.UTC().Format(time.RFC3339), resolved, reason)
	}
	tw.Flush()
}

func newCDCDeadLettersDismissCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "dismiss ID...",
		Short: "Close open dead letters by hand (the ID column of 'list')",
		Long: `Mark open dead letters resolved without writing anything to the index: for letters no later
change can heal (an unreadable id) or rows you dealt with otherwise. The letters stay in the table
('list --all' shows them with the time they were dismissed). Already resolved or unknown ids are skipped.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ids := make([]int64, 0, len(args))
			for _, a := range args {
				id, err := strconv.ParseInt(a, 10, 64)
				if err != nil || id <= 0 {
					return usageError{fmt.Errorf("dead letter id %q: want the positive number of the ID column of 'soomcare cdc dead-letters list'", a)}
				}
				ids = append(ids, id)
			}
			return e.withCDCStore(cmd.Context(), func(store *cdc.Store) error {
				n, err := store.DismissDeadLetters(cmd.Context(), ids)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "dismissed %d of %d dead letters (the others were not open)\n", n, len(ids))
				return nil
			})
		},
	}
}

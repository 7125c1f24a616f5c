package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/analyzers"
	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/dictionary"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/mappings"
)

// The editors' analysis rules in MySQL (package dictionary): `soomcare dict`
// for the nori user dictionary, `soomcare synonyms` (cli/synonyms.go) for the
// synonym rules (the editor API's mount is in serve's root, cli/roots.go).

// rulesCmd describes `soomcare dict` or `soomcare synonyms`.
type rulesCmd struct {
	use, short, long string
	kind             dictionary.Kind
	noun             string // "entry" or "rule", in messages
	example          string
}

func newDictCmd(e *env) *cobra.Command {
	return newRulesCmd(e, rulesCmd{
		use: "dict", kind: dictionary.Dictionary, noun: "entry", example: "소아천식 소아 천식",
		short: "List, add, edit or delete nori user dictionary entries (in MySQL, audited)",
		long: `Manage the nori user dictionary in MySQL (table analysis_dictionary_entries; migration 00042
seeded it from analyzers/userdict_ko.txt). An entry is a word of Hangul syllables ("흡입기"), optionally
followed by its segmentation ("소아천식 소아 천식": the index keeps the word and its parts).`,
	})
}

// newRulesCmd builds list, add, edit, delete and history for one kind.
func newRulesCmd(e *env, rc rulesCmd) *cobra.Command {
	cmd := &cobra.Command{
		Use:   rc.use + " list|add|edit|delete|history",
		Short: rc.short,
		Long:  rc.long + strings.ReplaceAll(rulesHelp, "{use}", rc.use),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{errors.New(rc.use + " needs a subcommand: list, add, edit, delete or history")}
		},
	}
	list := &cobra.Command{Use: "list", Short: "Print every " + rc.noun + " with who changed it last", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withStore(cmd.Context(), false, func(s *dictionary.Store) error { return printRules(cmd.Context(), e.stdout, s, rc.kind) })
		}}
	add := rc.writeCmd(e, "add TEXT", "Add an "+rc.noun+", e.g. \""+rc.example+"\"", cobra.ExactArgs(1),
		func(ctx context.Context, s *dictionary.Store, a dictionary.Actor, args []string) error {
			it, err := s.Add(ctx, rc.kind, args[0], a)
			return e.printChange(rc, "added", it, err)
		})
	edit := rc.writeCmd(e, "edit ID TEXT", "Replace the text of "+rc.noun+" ID", cobra.ExactArgs(2),
		func(ctx context.Context, s *dictionary.Store, a dictionary.Actor, args []string) error {
			id, err := ruleID(args[0])
			if err != nil {
				return err
			}
			it, err := s.Edit(ctx, rc.kind, id, args[1], a)
			return e.printChange(rc, "edited", it, err)
		})
	del := rc.writeCmd(e, "delete ID", "Delete "+rc.noun+" ID", cobra.ExactArgs(1),
		func(ctx context.Context, s *dictionary.Store, a dictionary.Actor, args []string) error {
			id, err := ruleID(args[0])
			if err != nil {
				return err
			}
			it, err := s.Get(ctx, rc.kind, id)
			if err == nil {
				err = s.Delete(ctx, rc.kind, id, a)
			}
			return e.printChange(rc, "deleted", it, err)
		})
	cmd.AddCommand(list, add, edit, del, rc.historyCmd(e))
	return cmd
}

// rulesHelp is the rest of the help of `dict` and `synonyms` ({use}: the command).
const rulesHelp = `

Every change is checked before it is saved, on the whole candidate set: by the local checks
(analyzers.ValidateRules) and by the engine itself (_analyze with the candidate rules inline); a
refused change saves nothing. Changes are recorded with who (--by, default $USER) and when
({use} history; the editor API records the editor's user id). They apply to indices built after
them: 'soomcare reindex all' makes them live (alias swap), 'soomcare reindex --rollback all' undoes
that; 'soomcare analyze --with-entry/--with-synonym' shows the tokens of a change before it is saved.
Editors have the same operations at /v1/editor/dictionary and /v1/editor/synonyms.`

// writeCmd is a subcommand that changes the rules as --by (operator).
func (rc rulesCmd) writeCmd(e *env, use, short string, args cobra.PositionalArgs, run func(ctx context.Context, s *dictionary.Store, a dictionary.Actor, args []string) error) *cobra.Command {
	var by string
	c := &cobra.Command{Use: use, Short: short, Args: args, RunE: func(cmd *cobra.Command, args []string) error {
		a, err := e.operator(by)
		if err != nil {
			return err
		}
		return e.withStore(cmd.Context(), true, func(s *dictionary.Store) error { return run(cmd.Context(), s, a, args) })
	}}
	c.Flags().StringVar(&by, "by", "", "who makes the change, recorded as cli:<name> (default: $USER)")
	return c
}

// historyCmd prints the latest changes of the kind.
func (rc rulesCmd) historyCmd(e *env) *cobra.Command {
	var limit int
	history := &cobra.Command{Use: "history", Short: "Print the latest changes (who, when, before and after)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 {
				return usageError{fmt.Errorf("--limit must be at least 1 (got %d)", limit)}
			}
			return e.withStore(cmd.Context(), false, func(s *dictionary.Store) error {
				return printChanges(cmd.Context(), e.stdout, s, rc.kind, limit)
			})
		}}
	history.Flags().IntVar(&limit, "limit", 50, "changes to print, newest first")
	return history
}

// operator is the CLI actor: --by, else $USER.
func (e *env) operator(by string) (dictionary.Actor, error) {
	if by == "" {
		for _, kv := range e.environ {
			if v, ok := strings.CutPrefix(kv, "USER="); ok {
				by = v
			}
		}
	}
	by = strings.TrimSpace(by)
	if by == "" || utf8.RuneCountInString(by) > 60 || strings.IndexFunc(by, unicode.IsControl) >= 0 {
		return dictionary.Actor{}, usageError{errors.New("--by NAME is required (1–60 characters; default $USER): changes are recorded with who made them")}
	}
	return dictionary.Actor{Name: by}, nil
}

func ruleID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 {
		return 0, usageError{fmt.Errorf("ID must be a positive number (got %q); see the list", s)}
	}
	return id, nil
}

// withStore opens MySQL (and, to check changes, the engine) for a store.
func (e *env) withStore(ctx context.Context, check bool, fn func(*dictionary.Store) error) error {
	return e.withConfigDB(ctx, func(c *config.Config, db *sql.DB) error {
		var checker dictionary.Checker
		if check {
			es, err := openEngine(ctx, c)
			if err != nil {
				return err
			}
			checker = dictionary.NewEngine(es)
		}
		return fn(dictionary.NewStore(db, checker, dictionary.Options{Logger: e.logger(c)}))
	})
}

// printChange reports a change, or why it was refused (the package's own
// message: it names the entry and the problem).
func (e *env) printChange(rc rulesCmd, verb string, it dictionary.Item, err error) error {
	var rej *dictionary.RejectedError
	var missing *dictionary.PluginMissingError
	switch {
	case errors.As(err, &rej):
		return errors.New(rej.Message())
	case errors.As(err, &missing):
		return errors.New(missing.Message())
	case errors.Is(err, dictionary.ErrNotFound):
		return fmt.Errorf("no %s with that ID; see '%s list'", rc.noun, rc.use)
	case err != nil:
		return err
	}
	fmt.Fprintf(e.stdout, "%s %s %d: %s\nIt applies to indices built from now on: run 'soomcare reindex all' to make it live.\n", verb, rc.noun, it.ID, it.Text)
	return nil
}

// printRules writes every rule of kind as a table.
func printRules(ctx context.Context, out io.Writer, s *dictionary.Store, k dictionary.Kind) error {
	w := newTableWriter(out)
	fmt.Fprintln(w, "ID\tTEXT\tUPDATED BY\tUPDATED AT")
	var after uint64
	n := 0
	for {
		p, err := s.List(ctx, k, after, dictionary.MaxListSize)
		if err != nil {
			return err
		}
		for _, it := range p.Items {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", it.ID, it.Text, it.UpdatedBy, it.UpdatedAt.UTC().Format("2006-01-02 15:04:05Z"))
			n++
		}
		if p.Next == 0 {
			break
		}
		after = p.Next
	}
	fmt.Fprintf(w, "(%d)\n", n)
	return w.Flush()
}

// printChanges writes the audit, newest first.
func printChanges(ctx context.Context, out io.Writer, s *dictionary.Store, k dictionary.Kind, limit int) error {
	changes, err := s.Changes(ctx, k, limit)
	if err != nil {
		return err
	}
	w := newTableWriter(out)
	fmt.Fprintln(w, "WHEN\tWHO\tACTION\tID\tBEFORE\tAFTER")
	text := func(s *string) string {
		if s == nil {
			return "-"
		}
		return *s
	}
	for _, c := range changes {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\n", c.At.UTC().Format("2006-01-02 15:04:05Z"), c.Actor, c.Action, c.ItemID, text(c.Before), text(c.After))
	}
	return w.Flush()
}

// mysqlRules is the rules source of a command that builds its lifecycle
// before it opens MySQL (reindex: a rollback needs no MySQL): set db before
// the first build.
type mysqlRules struct{ db *sql.DB }

func (m *mysqlRules) Rules(ctx context.Context) (analyzers.Rules, error) {
	if m.db == nil {
		return analyzers.Rules{}, errors.New("analysis rules: MySQL is not open")
	}
	return dictionary.NewStore(m.db, nil, dictionary.Options{}).Rules(ctx)
}

// analyzePending prints the ko_index and ko_search tokens of text with the
// rules in MySQL now and with the pending changes (`soomcare analyze
// --with-entry/--with-synonym`; dictionary.Store.Preview). A first line
// says whether the live contents index was built with the rules in MySQL
// now; when it was not, its own rules get rows too ("live index").
func (e *env) analyzePending(ctx context.Context, c *config.Config, es *engine.Client, text string, entries, synonyms []string) error {
	changes, err := pendingChanges(entries, synonyms)
	if err != nil {
		return err
	}
	db, err := openMySQL(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	alias := c.Search.IndexPrefix + "-" + mappings.Contents
	p, err := dictionary.NewStore(db, nil, dictionary.Options{}).Preview(ctx, dictionary.NewEngine(es), alias, text, changes...)
	var analyzeErr *dictionary.AnalyzeError
	if err != nil && !errors.As(err, &analyzeErr) {
		return e.previewError(err)
	}
	fmt.Fprintln(e.stdout, liveRulesNote(alias, p.Live, p.LiveErr, p.Now))
	if err != nil {
		return err
	}
	w := newTableWriter(e.stdout)
	for _, r := range p.Rows {
		out := make([]string, len(r.Tokens))
		for i, t := range r.Tokens {
			out[i] = fmt.Sprintf("%s@%d", t.Token, t.Position)
		}
		fmt.Fprintf(w, "%s (%s)\t%s\n", r.Analyzer, r.Version, strings.Join(out, " | "))
	}
	return w.Flush()
}

// previewError says why the pending changes cannot be previewed.
func (e *env) previewError(err error) error {
	var refusal *dictionary.EngineRefusal
	if errors.As(err, &refusal) {
		return fmt.Errorf("the engine refuses the rules with this change (%s); it cannot be saved", refusal.Type)
	}
	return e.printChange(rulesCmd{use: "dict", noun: "entry or rule"}, "", dictionary.Item{}, err)
}

// pendingChanges reads the --with-entry and --with-synonym values.
func pendingChanges(entries, synonyms []string) ([]dictionary.Pending, error) {
	var changes []dictionary.Pending
	for _, l := range []struct {
		kind dictionary.Kind
		args []string
	}{{dictionary.Dictionary, entries}, {dictionary.Synonyms, synonyms}} {
		for _, a := range l.args {
			p, err := pendingChange(l.kind, a)
			if err != nil {
				return nil, err
			}
			changes = append(changes, p)
		}
	}
	return changes, nil
}

// pendingChange reads [ID=]TEXT.
func pendingChange(k dictionary.Kind, arg string) (dictionary.Pending, error) {
	p := dictionary.Pending{Kind: k, Text: arg}
	if id, text, ok := strings.Cut(arg, "="); ok && id != "" && strings.Trim(id, "0123456789") == "" {
		n, err := ruleID(id)
		if err != nil {
			return p, err
		}
		p.ID, p.Text = n, text
	}
	if strings.TrimSpace(p.Text) == "" {
		return p, usageError{fmt.Errorf("empty %s in --with-%s", k, map[dictionary.Kind]string{dictionary.Dictionary: "entry", dictionary.Synonyms: "synonym"}[k])}
	}
	return p, nil
}

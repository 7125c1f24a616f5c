package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/seed"
)

func newSeedCmd(e *env) *cobra.Command {
	var (
		seedN      int64
		sizes      = seed.DefaultSizes()
		replace    bool
		ifEmpty    bool
		noProgress bool
	)
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Load the deterministic demo corpus into MySQL",
		Long:  seedHelp,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.seed(cmd.Context(), seedFlags{seed: seedN, sizes: sizes, replace: replace, ifEmpty: ifEmpty, noProgress: noProgress})
		},
	}
	f := cmd.Flags()
	f.Int64Var(&seedN, "seed", 20261125, "random seed: the same seed and sizes give the same corpus")
	f.IntVar(&sizes.Users, "users", sizes.Users, fmt.Sprintf("users (at least %d when there are contents or posts)", seed.MinUsers))
	f.IntVar(&sizes.Contents, "contents", sizes.Contents, "editors' articles")
	f.IntVar(&sizes.Posts, "posts", sizes.Posts, "community posts (each with 0–6 comments and some likes)")
	f.BoolVar(&replace, "replace", false, "delete existing rows (DELETE, visible to CDC) and reload")
	f.BoolVar(&ifEmpty, "if-empty", false, "when users already has rows, load nothing and exit 0")
	f.BoolVar(&noProgress, "no-progress", false, "no progress bar (for logs)")
	return cmd
}

const seedHelp = `Load the 숨케어 demo corpus into MySQL: users (an admin, editors, members), editors' Korean
articles on asthma self-care (contents), community posts, comments with one level of replies, and likes.

The corpus is deterministic: the same --seed and sizes give the same rows, ids 1..N, with timestamps
relative to the current UTC day (so reruns on one day load identical data). Rows go into MySQL only,
in multi-row INSERT batches in foreign key order; the CDC worker (soomcare cdc) streams them to the
search indices, or run 'soomcare reindex all' afterwards. The schema must be migrated first.

If users already has rows the command fails, unless --replace (delete every row of the seeded tables
and user_identities with DELETE, so the binlog and the CDC worker see the deletions, then load) or
--if-empty (load nothing and exit 0, for scripts that rerun).`

// seedFlags are the flags of `soomcare seed`.
type seedFlags struct {
	seed                         int64
	sizes                        seed.Sizes
	replace, ifEmpty, noProgress bool
}

// seed generates the corpus, loads it with a progress bar per table and
// prints what it loaded.
func (e *env) seed(ctx context.Context, f seedFlags) error {
	if f.replace && f.ifEmpty {
		return usageError{errors.New("--replace and --if-empty exclude each other")}
	}
	if err := f.sizes.Validate(); err != nil {
		return usageError{err}
	}
	_, db, err := e.configAndDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	corpus := seed.Generate(f.seed, f.sizes, time.Now().UTC().Truncate(24*time.Hour))
	bar := newBar(e.stderr, f.noProgress, "seed") // one bar per table: "seed users", …
	start := time.Now()
	st, err := seed.Load(ctx, db, corpus, seed.LoadOptions{
		Replace: f.replace,
		Progress: func(table string, done, total int) {
			if total == 0 {
				return // nothing to draw for an empty table
			}
			bar.update(table, int64(done), int64(total))
		},
	})
	bar.finish()
	if errors.Is(err, seed.ErrNotEmpty) && f.ifEmpty {
		fmt.Fprintln(e.stdout, "database already has data; nothing loaded (use --replace to reload)")
		return nil
	}
	if err != nil {
		if errors.Is(err, seed.ErrNotEmpty) {
			return fmt.Errorf("%w: use --replace to delete and reload, or --if-empty to skip", err)
		}
		return err
	}
	if st.Deleted > 0 {
		fmt.Fprintf(e.stdout, "deleted %d existing rows\n", st.Deleted)
	}
	for _, t := range st.Tables() {
		fmt.Fprintf(e.stdout, "%s: %d rows\n", t.Name, t.Rows)
	}
	fmt.Fprintf(e.stdout, "seed %d loaded in %s\n", f.seed, time.Since(start).Round(time.Millisecond))
	return nil
}

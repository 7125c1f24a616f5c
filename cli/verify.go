package cli

import (
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/mappings"
)

func newVerifyCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "verify [contents|posts|users|all]",
		Short: "Compare a live index with MySQL: missing, extra and stale documents",
		Long: `Compare every document of a live index with what MySQL's rows make of it now (ids and a
content hash per document). Exits 0 when they are equal, 1 when they differ: each kind (missing,
extra, different) is a count followed by its ids in parentheses (the first five), e.g.
"different 1 (id 17)". Rows written while it runs may show up as differences: rerun once the CDC
caught up; what stays different is fixed by 'soomcare reindex NAME'.
Then it prints the cluster's health and each index's live shards and replicas next to
search.indices (a difference is applied by 'soomcare reindex NAME').`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			names := mappings.Names()
			if len(args) == 1 && args[0] != "all" {
				if !slices.Contains(names, args[0]) {
					return usageError{fmt.Errorf("unknown index %q: want contents, posts, users or all", args[0])}
				}
				names = []string{args[0]}
			}
			ctx := cmd.Context()
			c, db, err := e.configAndDB(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			es, err := openEngine(ctx, c)
			if err != nil {
				return err
			}
			life := newLifecycle(c, es)
			src := indexer.NewSource(db)
			differ := false
			for _, name := range names {
				if err := life.Refresh(ctx, life.Alias(name)); err != nil {
					return fmt.Errorf("verify %s: %w", name, err)
				}
				d, err := indexer.Compare(ctx, es.ES, src, life.Alias(name), name)
				if err != nil {
					return fmt.Errorf("verify %s: %w", name, err)
				}
				fmt.Fprintln(e.stdout, d)
				if !d.Equal() {
					fmt.Fprintln(e.stdout, verifyAdvice(name))
				}
				differ = differ || !d.Equal()
			}
			printShapes(ctx, e.stdout, c, es, names)
			if differ {
				return errors.New("the index differs from MySQL (see above)")
			}
			return nil
		},
	}
}

// verifyAdvice is the line under a difference: what the ids are and what to do.
func verifyAdvice(name string) string {
	return fmt.Sprintf("  the ids in parentheses are primary keys of %s; rows written during the comparison show up too:"+
		" wait for the CDC and run 'soomcare verify %s' again, or run 'soomcare reindex %s' to rebuild the index now", name, name, name)
}

package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/insights"
	"github.com/soomcare/soomcare/searchapi"
)

func newSuggestionsCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "suggestions list|remove|block|unblock|blocked|history",
		Short: "Popular past queries in suggestions: list them, remove one, block a text (audited)",
		Long: `Suggest (GET /v1/search/suggest) blends in popular past queries from the search insights: the
queries of searches that found something, made by at least insights.popular_min_clients distinct
clients (a signed-in user, else an IP address; one per client and day) and insights.popular_min_count
searches in insights.popular_window, in the Hangul they stand for (cjstlr counts as 천식; 초성 input
such as ㅊㅅ never counts). Queries holding a URL or domain, an e-mail address, a phone number (eight
or more digits) or a word of the built-in blocklist (insights/data/suggest_blocklist.txt) are never
suggested.

  list            the popular queries suggest shows now (computed as serve does), --q to narrow
  remove TEXT     never suggest this query again (exact, in its suggested form)
  block TEXT      never suggest a query holding TEXT (Hangul anywhere, other words as whole words)
  unblock ID      undo a remove or block (IDs from 'blocked')
  blocked         the removals and blocks
  history         who removed, blocked or unblocked what, and when

Changes are stored in MySQL and recorded with who (--by, default $USER) and when; every serve process
applies them within insights.blocks_refresh (default 2s). Editors have the same at
/v1/editor/suggestions (GET), /v1/editor/suggestions/blocks (GET, POST, DELETE …/{id}) and
/v1/editor/suggestions/changes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{errors.New("suggestions needs a subcommand: list, remove, block, unblock, blocked or history")}
		},
	}
	cmd.AddCommand(newSuggestionsListCmd(e), newBlockCmd(e, "remove", insights.MatchExact), newBlockCmd(e, "block", insights.MatchContains),
		newUnblockCmd(e), newBlockedCmd(e), newBlockHistoryCmd(e))
	return cmd
}

// withBlocks runs fn with the blocks' store over MySQL.
func (e *env) withBlocks(ctx context.Context, fn func(*insights.BlockStore) error) error {
	return e.withMySQL(ctx, func(db *sql.DB) error { return fn(insights.NewBlockStore(db, nil)) })
}

func newSuggestionsListCmd(e *env) *cobra.Command {
	var q string
	var top int
	cmd := &cobra.Command{Use: "list", Short: "Print the popular queries suggest shows now (distinct clients, most first)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if top < 1 || top > insights.PopularSize {
				return usageError{fmt.Errorf("--top must be between 1 and %d (got %d)", insights.PopularSize, top)}
			}
			c, es, err := e.configAndEngine(cmd.Context())
			if err != nil {
				return err
			}
			counts, err := insights.NewReader(es.ES, c.Insights.DataStream).Popular(cmd.Context(), time.Now(), c.Insights.PopularWindow,
				c.Insights.PopularMinClients, c.Insights.PopularMinCount)
			if err != nil {
				return fmt.Errorf("suggestions: %w", err)
			}
			return e.withBlocks(cmd.Context(), func(s *insights.BlockStore) error {
				blocks, err := s.List(cmd.Context())
				if err != nil {
					return err
				}
				p := insights.NewPopular()
				p.SetBlocks(blocks)
				p.Set(insights.Counts(counts))
				return printShown(e.stdout, p.Shown(searchapi.QueryKey(q), top), counts)
			})
		}}
	cmd.Flags().StringVar(&q, "q", "", "only the queries suggest shows for this input (as typed, 초성 or English keys)")
	cmd.Flags().IntVar(&top, "top", 50, "queries to print")
	return cmd
}

func printShown(w io.Writer, shown []insights.QueryCount, counts []insights.PopularCount) error {
	searches := make(map[string]int64, len(counts))
	for _, c := range counts {
		searches[c.Query] = c.Searches
	}
	tw := newTableWriter(w)
	fmt.Fprintln(tw, "#\tclients\tsearches\tquery")
	if len(shown) == 0 {
		fmt.Fprintln(tw, "-\t0\t0\t(none)")
	}
	for i, s := range shown {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\n", i+1, s.Count, searches[s.Query], s.Query)
	}
	return tw.Flush()
}

func newBlockCmd(e *env, use, match string) *cobra.Command {
	var by string
	short := map[string]string{insights.MatchExact: "Never suggest this query again (exact, in its suggested form)",
		insights.MatchContains: "Never suggest a query holding TEXT"}[match]
	cmd := &cobra.Command{Use: use + " TEXT", Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := e.operator(by)
			if err != nil {
				return err
			}
			if _, err := insights.BlockText(args[0]); err != nil {
				return usageError{fmt.Errorf("%s: TEXT must be 1 to %d characters that stand for a word (not 초성 alone)", use, insights.MaxBlockLen)}
			}
			return e.withBlocks(cmd.Context(), func(s *insights.BlockStore) error {
				b, created, err := s.Add(cmd.Context(), args[0], match, a)
				if err != nil {
					return err
				}
				verb := map[string]string{insights.MatchExact: "removed", insights.MatchContains: "blocked"}[match]
				if !created {
					verb = "already " + verb
				}
				_, err = fmt.Fprintf(e.stdout, "%s %q (block %d, match %s); serve applies it within insights.blocks_refresh\n", verb, b.Text, b.ID, b.Match)
				return err
			})
		}}
	cmd.Flags().StringVar(&by, "by", "", "who makes the change, recorded as cli:<name> (default: $USER)")
	return cmd
}

func newUnblockCmd(e *env) *cobra.Command {
	var by string
	cmd := &cobra.Command{Use: "unblock ID", Short: "Undo a remove or block (IDs from 'suggestions blocked')", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil || id == 0 {
				return usageError{fmt.Errorf("ID must be a positive number (got %q); see 'soomcare suggestions blocked'", args[0])}
			}
			a, err := e.operator(by)
			if err != nil {
				return err
			}
			return e.withBlocks(cmd.Context(), func(s *insights.BlockStore) error {
				b, err := s.Delete(cmd.Context(), id, a)
				if errors.Is(err, insights.ErrBlockNotFound) {
					return fmt.Errorf("no block %d; see 'soomcare suggestions blocked'", id)
				}
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "unblocked %q (block %d, match %s)\n", b.Text, b.ID, b.Match)
				return err
			})
		}}
	cmd.Flags().StringVar(&by, "by", "", "who makes the change, recorded as cli:<name> (default: $USER)")
	return cmd
}

func newBlockedCmd(e *env) *cobra.Command {
	return &cobra.Command{Use: "blocked", Short: "Print the removals (match exact) and blocks (match contains)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withBlocks(cmd.Context(), func(s *insights.BlockStore) error {
				list, err := s.List(cmd.Context())
				if err != nil {
					return err
				}
				tw := newTableWriter(e.stdout)
				fmt.Fprintln(tw, "id\tmatch\tby\tat (UTC)\ttext")
				for _, b := range list {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", b.ID, b.Match, b.CreatedBy, b.CreatedAt.UTC().Format(time.DateTime), b.Text)
				}
				if len(list) == 0 {
					fmt.Fprintln(tw, "-\t-\t-\t-\t(none)")
				}
				return tw.Flush()
			})
		}}
}

func newBlockHistoryCmd(e *env) *cobra.Command {
	var limit int
	cmd := &cobra.Command{Use: "history", Short: "Print the latest removals, blocks and unblocks (who, when, what)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > insights.MaxChanges {
				return usageError{fmt.Errorf("--limit must be between 1 and %d (got %d)", insights.MaxChanges, limit)}
			}
			return e.withBlocks(cmd.Context(), func(s *insights.BlockStore) error {
				list, err := s.Changes(cmd.Context(), limit)
				if err != nil {
					return err
				}
				tw := newTableWriter(e.stdout)
				fmt.Fprintln(tw, "at (UTC)\tby\taction\tblock\tmatch\ttext")
				for _, c := range list {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", c.At.UTC().Format(time.DateTime), c.Actor, c.Action, c.BlockID, c.Match, c.Text)
				}
				return tw.Flush()
			})
		}}
	cmd.Flags().IntVar(&limit, "limit", 50, "changes to print, newest first")
	return cmd
}

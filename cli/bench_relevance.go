package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/relevance"
)

func newBenchRelevanceCmd(e *env) *cobra.Command {
	var (
		keep       bool
		perQuery   bool
		noProgress bool
	)
	cmd := &cobra.Command{
		Use:   "relevance",
		Short: "Measure search relevance: the platform against MySQL LIKE and the standard analyzer",
		Long: `Measure how well search finds what users mean, with the judged Korean queries of package
relevance (particles, compounds, synonyms, prefixes, 초성, English-keyboard typos, mixed English,
several words) over the default demo corpus (seed 20261125, default sizes, today's UTC date as
'soomcare seed' uses; only timestamps depend on the date, so the judgments hold on any day).

Each query's relevant documents come from a written rule over the generated corpus (see
relevance/queries.json), not from hand-picked ids. Printed per category and overall, for each system:
recall@10 (relevant found in the first 10 / min(10, relevant)) and nDCG@10 (grade 2 when the rule
holds in the title, 1 in the text).

Systems, all in one run over the same corpus and queries:
  platform  the search API (searchapi query builders, in process) over indices built by the indexer
            with the nori analysis profile
  like      MySQL title LIKE '%q%' OR body LIKE '%q%', newest first: the old way
  standard  the same search API over the same corpus indexed with the basic profile (the engine's
            standard tokenizer: no Korean morphology, n-grams or synonyms)

Autocomplete (GET /v1/search/suggest, size 10, over the nori indices) is judged apart, on the cases of
relevance/suggest.json (prefix, 초성, English keyboard): recall@10 and nDCG@10 over distinct relevant
titles, a text shown twice earning nothing, and the number of repeated texts.

What it touches: a throwaway database soomcare_bench_<random> on the configured MySQL server (created,
migrated, loaded with the corpus, dropped at the end unless --keep), and throwaway indices
<search.index_prefix>-bench-<random>-{nori,basic}-{contents,posts} on the configured engine, always
deleted at the end. Live data and aliases are never read or written. The configured engine serves both
profiles, so it must have the analysis-nori plugin: OpenSearch with nori (or Elasticsearch with nori);
the basic profile needs nothing more. The MySQL user needs CREATE and DROP DATABASE, and the binlog
on (as for reindex).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, err := e.config()
			if err != nil {
				return err
			}
			log := e.logger(c)
			es, err := openEngine(ctx, c)
			if err != nil {
				return err
			}
			if err := indexer.CheckProfile(ctx, es, mappings.ProfileNori); err != nil {
				return fmt.Errorf("bench relevance builds nori indices on the configured engine: %w", err)
			}
			dsn, drop, err := mysql.CreateScratch(ctx, c.MySQL.DSN, "soomcare_bench")
			if err != nil {
				return fmt.Errorf("create the throwaway database: %w", err)
			}
			name := dsn
			if d, err := mysql.ParseDSN(dsn); err == nil {
				name = d.DBName
			}
			defer func() {
				if keep {
					fmt.Fprintf(e.stdout, "kept database %s (drop it with DROP DATABASE `%s`)\n", name, name)
					return
				}
				dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
				defer cancel()
				if derr := drop(dctx); derr != nil {
					fmt.Fprintf(e.stderr, "warning: %v\n", derr)
				}
			}()
			db, err := mysql.Open(ctx, dsn, mysql.Options{MaxOpenConns: 8})
			if err != nil {
				return err
			}
			defer db.Close()
			m, err := mysql.NewMigrator(db, nil) // a throwaway schema: its migrations are not news
			if err != nil {
				return err
			}
			if _, err := m.Up(ctx); err != nil {
				return fmt.Errorf("migrate the throwaway database %s: %w", name, err)
			}
			b := make([]byte, 4)
			if _, err := rand.Read(b); err != nil {
				return err
			}
			bar := newBar(e.stderr, noProgress, "bench")
			start := time.Now()
			rep, err := relevance.Run(ctx, db, es, relevance.Options{
				Prefix:   c.Search.IndexPrefix + "-bench-" + hex.EncodeToString(b),
				Logger:   log,
				Progress: bar.update,
			})
			bar.finish()
			if err != nil {
				return err
			}
			if err := rep.WriteTable(e.stdout); err != nil {
				return err
			}
			if perQuery {
				fmt.Fprintln(e.stdout)
				if err := rep.WriteQueries(e.stdout); err != nil {
					return err
				}
			}
			fmt.Fprintf(e.stdout, "measured in %s\n", time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&keep, "keep", false, "keep the throwaway database (the indices are deleted regardless)")
	f.BoolVar(&perQuery, "per-query", false, "also print every query's relevant-set size and scores")
	f.BoolVar(&noProgress, "no-progress", false, "no progress bar (for logs)")
	return cmd
}

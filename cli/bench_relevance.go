package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/bench"
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
			return e.benchRelevance(cmd.Context(), keep, perQuery, noProgress)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&keep, "keep", false, "keep the throwaway database (the indices are deleted regardless)")
	f.BoolVar(&perQuery, "per-query", false, "also print every query's relevant-set size and scores")
	f.BoolVar(&noProgress, "no-progress", false, "no progress bar (for logs)")
	return cmd
}

// benchRelevance runs bench.Relevance with the configured MySQL server and
// engine and prints its tables.
func (e *env) benchRelevance(ctx context.Context, keep, perQuery, noProgress bool) error {
	c, es, err := e.configAndEngine(ctx)
	if err != nil {
		return err
	}
	bar := newBar(e.stderr, noProgress, "bench")
	res, err := bench.Relevance(ctx, bench.RelevanceSpec{DSN: c.MySQL.DSN, Engine: es, IndexPrefix: c.Search.IndexPrefix,
		Keep: keep, Logger: e.logger(c), Progress: bar.update, Warn: e.stderr})
	bar.finish()
	if res.KeptDB != "" {
		defer fmt.Fprintf(e.stdout, "kept database %s (drop it with DROP DATABASE `%s`)\n", res.KeptDB, res.KeptDB)
	}
	if err != nil {
		return err
	}
	if err := res.Report.WriteTable(e.stdout); err != nil {
		return err
	}
	if perQuery {
		fmt.Fprintln(e.stdout)
		if err := res.Report.WriteQueries(e.stdout); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "measured in %s\n", res.Took.Round(time.Millisecond))
	return nil
}

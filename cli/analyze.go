package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/analyzers"
	"github.com/soomcare/soomcare/dictionary"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/mappings"
)

// analyzeFlags are the flags of `soomcare analyze`.
type analyzeFlags struct {
	index, field              string
	withEntries, withSynonyms []string
}

func newAnalyzeCmd(e *env) *cobra.Command {
	var f analyzeFlags
	cmd := &cobra.Command{
		Use:   "analyze [--index contents|posts|users] [--field FIELD] [--with-entry [ID=]ENTRY] [--with-synonym [ID=]RULE] TEXT",
		Short: "Print the tokens each analyzer of a live index makes of TEXT",
		Long:  analyzeHelp,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 || strings.TrimSpace(strings.Join(args, " ")) == "" {
				return usageError{errors.New("analyze needs the text to analyse")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.analyze(cmd.Context(), f, strings.Join(args, " "))
		},
	}
	cmd.Flags().StringVar(&f.index, "index", mappings.Contents, "logical index whose analyzers to use")
	cmd.Flags().StringVar(&f.field, "field", "", "a field of the index, e.g. title or title.prefix")
	cmd.Flags().StringArrayVar(&f.withEntries, "with-entry", nil, "a dictionary entry to add (or ID=ENTRY to replace entry ID), not saved")
	cmd.Flags().StringArrayVar(&f.withSynonyms, "with-synonym", nil, "a synonym rule to add (or ID=RULE to replace rule ID), not saved")
	return cmd
}

const analyzeHelp = `Show how the live index analyses TEXT, for editors tuning the user dictionary and synonyms.

Without --field it prints the tokens of every custom analyzer of the index (ko_index: what is
stored; ko_search: what a query becomes, synonyms included; prefix_index, bigram, en, …).
With --field it prints that field's index-time and search-time tokens.

With --with-entry or --with-synonym (repeatable) it shows what a change not yet saved would do:
the ko_index and ko_search tokens of TEXT with the dictionary and synonyms in MySQL now ("MySQL
now"), and with the change. A first line says whether the live contents index was built with those
same rules; when it was not (changes not yet reindexed, or a rollback), its own rules get rows too
("live index"). ID=TEXT replaces entry or rule ID (see 'soomcare dict list', 'soomcare synonyms
list'); TEXT alone adds one. This needs MySQL and the engine (with nori), not a built index.

The dictionary and synonyms live in MySQL, edited with 'soomcare dict', 'soomcare synonyms' or the
editor API, and reach a live cluster by a rebuild: 'soomcare reindex all'. They are inlined into the
index settings (no files to copy onto engine nodes, which managed services do not allow), and a new
physical index is built behind the alias, so the change is atomic on Elasticsearch and OpenSearch
alike and 'soomcare reindex --rollback all' undoes it.`

// analyze prints the tokens of text: of every custom analyzer of the live
// index, of one field, or with pending changes (analyzePending, cli/dict.go).
func (e *env) analyze(ctx context.Context, f analyzeFlags, text string) error {
	c, err := e.config()
	if err != nil {
		return err
	}
	if !slices.Contains(mappings.Names(), f.index) {
		return usageError{fmt.Errorf("unknown index %q: want contents, posts or users", f.index)}
	}
	es, err := openEngine(ctx, c)
	if err != nil {
		return err
	}
	if len(f.withEntries)+len(f.withSynonyms) > 0 {
		return e.analyzePending(ctx, c, es, text, f.withEntries, f.withSynonyms)
	}
	alias := c.Search.IndexPrefix + "-" + f.index
	rows, err := analyzeRows(ctx, es, alias, f.field)
	if err != nil {
		return err
	}
	w := newTableWriter(e.stdout)
	for _, r := range rows {
		req := map[string]any{"text": text}
		if r.fieldName != "" {
			req["field"] = r.fieldName
		} else {
			req["analyzer"] = r.analyzer
		}
		toks, err := analyzeTokens(ctx, es, alias, req)
		if err != nil {
			return fmt.Errorf("analyze with %s: %w", r.name, err)
		}
		fmt.Fprintf(w, "%s\t%s\n", r.name, strings.Join(toks, " | "))
	}
	return w.Flush()
}

// analyzeRow is one line of `analyze`: an analyzer, or a field's
// index-time analysis.
type analyzeRow struct{ name, analyzer, fieldName string }

// analyzeRows are the lines of `analyze`: field's index-time and
// search-time analyzers, or without field every custom analyzer.
func analyzeRows(ctx context.Context, es *engine.Client, alias, field string) ([]analyzeRow, error) {
	var rows []analyzeRow
	if field != "" {
		search, err := searchAnalyzer(ctx, es, alias, field)
		if err != nil {
			return nil, err
		}
		rows = append(rows, analyzeRow{name: field + " (index)", fieldName: field})
		if search != "" {
			rows = append(rows, analyzeRow{name: field + " (search)", analyzer: search})
		}
		return rows, nil
	}
	names, err := customAnalyzers(ctx, es, alias)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		rows = append(rows, analyzeRow{name: n, analyzer: n})
	}
	return rows, nil
}

func analyzeTokens(ctx context.Context, es *engine.Client, index string, req map[string]any) ([]string, error) {
	body, _ := json.Marshal(req)
	res, err := es.ES.Indices.Analyze(es.ES.Indices.Analyze.WithContext(ctx), es.ES.Indices.Analyze.WithIndex(index),
		es.ES.Indices.Analyze.WithBody(strings.NewReader(string(body))))
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if err := engine.CheckStatus(res); err != nil {
		return nil, notBuiltIndexHint(err, index)
	}
	var out struct {
		Tokens []struct {
			Token    string `json:"token"`
			Position int    `json:"position"`
		} `json:"tokens"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return nil, err
	}
	toks := make([]string, len(out.Tokens))
	for i, t := range out.Tokens {
		toks[i] = fmt.Sprintf("%s@%d", t.Token, t.Position)
	}
	return toks, nil
}

func notBuiltIndexHint(err error, alias string) error {
	var se *engine.StatusError
	if errors.As(err, &se) && se.Status == 404 {
		return fmt.Errorf("index %s does not exist yet: run 'soomcare reindex' first: %w", alias, err)
	}
	return err
}

// customAnalyzers lists the analyzers defined in the index settings.
func customAnalyzers(ctx context.Context, es *engine.Client, alias string) ([]string, error) {
	res, err := es.ES.Indices.GetSettings(es.ES.Indices.GetSettings.WithContext(ctx), es.ES.Indices.GetSettings.WithIndex(alias))
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if err := engine.CheckStatus(res); err != nil {
		return nil, notBuiltIndexHint(err, alias)
	}
	var out map[string]struct {
		Settings struct {
			Index struct {
				Analysis struct {
					Analyzer map[string]json.RawMessage `json:"analyzer"`
				} `json:"analysis"`
			} `json:"index"`
		} `json:"settings"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return nil, err
	}
	var names []string
	for _, idx := range out {
		for n := range idx.Settings.Index.Analysis.Analyzer {
			names = append(names, n)
		}
		break
	}
	sort.Strings(names)
	return names, nil
}

// searchAnalyzer returns the search_analyzer of field, "" when it has none.
func searchAnalyzer(ctx context.Context, es *engine.Client, alias, field string) (string, error) {
	res, err := es.ES.Indices.GetFieldMapping([]string{field}, es.ES.Indices.GetFieldMapping.WithContext(ctx), es.ES.Indices.GetFieldMapping.WithIndex(alias))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	if err := engine.CheckStatus(res); err != nil {
		return "", notBuiltIndexHint(err, alias)
	}
	var out map[string]struct {
		Mappings map[string]struct {
			Mapping map[string]struct {
				SearchAnalyzer string `json:"search_analyzer"`
			} `json:"mapping"`
		} `json:"mappings"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return "", err
	}
	for _, idx := range out {
		fm, ok := idx.Mappings[field]
		if !ok {
			return "", usageError{fmt.Errorf("index %s has no field %q", alias, field)}
		}
		for _, m := range fm.Mapping {
			return m.SearchAnalyzer, nil
		}
	}
	return "", usageError{fmt.Errorf("index %s has no field %q", alias, field)}
}

// liveRulesNote is the first line of `analyze --with-entry/--with-synonym`:
// what "MySQL now" is and whether the live index has those rules.
func liveRulesNote(alias string, live *dictionary.Live, err error, now analyzers.Rules) string {
	const mysqlNow = "MySQL now: the dictionary and synonyms in MySQL now"
	switch {
	case err != nil:
		return fmt.Sprintf("%s; the live index %s could not be read (%v), so it may have older ones", mysqlNow, alias, err)
	case live == nil:
		return fmt.Sprintf("%s; there is no live index %s yet ('soomcare reindex all' builds it with them)", mysqlNow, alias)
	}
	built := fmt.Sprintf("the live index %s (created %s)", live.Physical, live.Created.Format("2006-01-02 15:04:05Z"))
	switch {
	case !live.Nori:
		return fmt.Sprintf("%s; %s was built without nori (analysis profile basic): it uses no dictionary or synonyms", mysqlNow, built)
	case live.SameAs(now):
		return fmt.Sprintf("%s; %s was built with these same rules", mysqlNow, built)
	}
	return fmt.Sprintf("%s; %s was built with different rules (%s and %s differ; its tokens are the rows marked (live index)): 'soomcare reindex all' makes MySQL's rules live",
		mysqlNow, built, plural(countDiff(live.Rules.UserDictionary, now.UserDictionary), "dictionary entry", "dictionary entries"),
		plural(countDiff(live.Rules.Synonyms, now.Synonyms), "synonym rule", "synonym rules"))
}

// plural is "1 rule" or "3 rules".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// countDiff counts the texts in only one of a and b.
func countDiff(a, b []string) int {
	in := func(s []string) map[string]bool {
		m := make(map[string]bool, len(s))
		for _, x := range s {
			m[x] = true
		}
		return m
	}
	ina, inb := in(a), in(b)
	n := 0
	for x := range ina {
		if !inb[x] {
			n++
		}
	}
	for x := range inb {
		if !ina[x] {
			n++
		}
	}
	return n
}

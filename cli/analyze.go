package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/mappings"
)

func newAnalyzeCmd(e *env) *cobra.Command {
	var index, field string
	var withEntries, withSynonyms []string
	cmd := &cobra.Command{
		Use:   "analyze [--index contents|posts|users] [--field FIELD] [--with-entry [ID=]ENTRY] [--with-synonym [ID=]RULE] TEXT",
		Short: "Print the tokens each analyzer of a live index makes of TEXT",
		Long: `Show how the live index analyses TEXT, for editors tuning the user dictionary and synonyms.

Without --field it prints the tokens of every custom analyzer of the index (ko_index: what is
stored; ko_search: what a query becomes, synonyms included; prefix_index, bigram, en, …).
With --field it prints that field's index-time and search-time tokens.

With --with-entry or --with-synonym (repeatable) it shows what a change not yet saved would do:
the ko_index and ko_search tokens of TEXT with the dictionary and synonyms in MySQL now, and with the
change. ID=TEXT replaces entry or rule ID (see 'soomcare dict list', 'soomcare synonyms list'); TEXT
alone adds one. This needs MySQL and the engine (with nori), not a built index.

The dictionary and synonyms live in MySQL, edited with 'soomcare dict', 'soomcare synonyms' or the
editor API, and reach a live cluster by a rebuild: 'soomcare reindex all'. They are inlined into the
index settings (no files to copy onto engine nodes, which managed services do not allow), and a new
physical index is built behind the alias, so the change is atomic on Elasticsearch and OpenSearch
alike and 'soomcare reindex --rollback all' undoes it.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 || strings.TrimSpace(strings.Join(args, " ")) == "" {
				return usageError{errors.New("analyze needs the text to analyse")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := e.config()
			if err != nil {
				return err
			}
			if !slices.Contains(mappings.Names(), index) {
				return usageError{fmt.Errorf("unknown index %q: want contents, posts or users", index)}
			}
			text := strings.Join(args, " ")
			es, err := openEngine(ctx, c)
			if err != nil {
				return err
			}
			if len(withEntries)+len(withSynonyms) > 0 {
				return e.analyzePending(ctx, c, es, text, withEntries, withSynonyms) // cli/dict.go
			}
			alias := c.Search.IndexPrefix + "-" + index
			type row struct{ name, analyzer, fieldName string }
			var rows []row
			if field != "" {
				search, err := searchAnalyzer(ctx, es, alias, field)
				if err != nil {
					return err
				}
				rows = append(rows, row{name: field + " (index)", fieldName: field})
				if search != "" {
					rows = append(rows, row{name: field + " (search)", analyzer: search})
				}
			} else {
				names, err := customAnalyzers(ctx, es, alias)
				if err != nil {
					return err
				}
				for _, n := range names {
					rows = append(rows, row{name: n, analyzer: n})
				}
			}
			w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
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
		},
	}
	cmd.Flags().StringVar(&index, "index", mappings.Contents, "logical index whose analyzers to use")
	cmd.Flags().StringVar(&field, "field", "", "a field of the index, e.g. title or title.prefix")
	cmd.Flags().StringArrayVar(&withEntries, "with-entry", nil, "a dictionary entry to add (or ID=ENTRY to replace entry ID), not saved")
	cmd.Flags().StringArrayVar(&withSynonyms, "with-synonym", nil, "a synonym rule to add (or ID=RULE to replace rule ID), not saved")
	return cmd
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

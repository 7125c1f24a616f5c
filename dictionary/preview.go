package dictionary

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/soomcare/soomcare/analyzers"
	"github.com/soomcare/soomcare/engine"
)

// Preview is what changes not yet saved would do to the tokens of a text
// (`soomcare analyze --with-entry/--with-synonym`): the ko_index and
// ko_search tokens with the rules in MySQL now and with the changes, built
// inline (no index is needed), and with the rules of the live index when it
// was built with others.
type Preview struct {
	Now, Pending analyzers.Rules
	Live         *Live // the live index's rules; nil when there is none or it could not be read
	LiveErr      error // why the live index could not be read
	Rows         []PreviewRow
}

// PreviewRow is the tokens one analyzer makes of the text with one version
// of the rules ("live index", "MySQL now", "with change").
type PreviewRow struct {
	Analyzer, Version string
	Tokens            []Token
}

// AnalyzeError is a Preview that failed to analyse the text with one
// version of the rules, after the changes passed every check.
type AnalyzeError struct {
	Analyzer string
	Err      error
}

func (e *AnalyzeError) Error() string { return "analyze with " + e.Analyzer + ": " + e.Err.Error() }
func (e *AnalyzeError) Unwrap() error { return e.Err }

// Preview checks changes like a save would (locally, then by the engine)
// and analyses text with each version of the rules. The live index is the
// one behind alias. Errors: those of WithPending and Engine.Check (a
// *RejectedError, *PluginMissingError, *EngineRefusal, ErrNotFound), then
// an *AnalyzeError, with the Preview filled but for its rows.
func (s *Store) Preview(ctx context.Context, eng *Engine, alias, text string, changes ...Pending) (Preview, error) {
	var p Preview
	var err error
	if p.Now, err = s.Current(ctx); err != nil {
		return p, err
	}
	if p.Pending, err = s.WithPending(ctx, changes...); err != nil {
		return p, err
	}
	if err := eng.Check(ctx, p.Pending); err != nil {
		return p, err
	}
	p.Live, p.LiveErr = eng.Live(ctx, alias)
	versions := []struct {
		label string
		rules analyzers.Rules
	}{{"MySQL now", p.Now}, {"with change", p.Pending}}
	if p.Live != nil && p.Live.Nori && !p.Live.SameAs(p.Now) {
		versions = slices.Insert(versions, 0, struct {
			label string
			rules analyzers.Rules
		}{"live index", p.Live.Rules})
	}
	var rows []PreviewRow
	for _, analyzer := range checkedAnalyzers {
		for _, v := range versions {
			toks, err := eng.Analyze(ctx, v.rules, analyzer, text)
			if err != nil {
				return p, &AnalyzeError{Analyzer: analyzer, Err: err}
			}
			rows = append(rows, PreviewRow{Analyzer: analyzer, Version: v.label, Tokens: toks})
		}
	}
	p.Rows = rows
	return p, nil
}

// Live is what the live index of an alias was built with: the user
// dictionary, synonyms and stop tags inlined in its settings.
type Live struct {
	Physical string
	Created  time.Time
	Nori     bool // built with the nori profile (else it has no rules)
	Rules    analyzers.Rules
}

// SameAs reports whether the live index has exactly the dictionary and
// synonyms of r.
func (l *Live) SameAs(r analyzers.Rules) bool {
	return slices.Equal(l.Rules.UserDictionary, r.UserDictionary) && slices.Equal(l.Rules.Synonyms, r.Synonyms)
}

// liveSettings is the part of an index's settings Live reads.
type liveSettings map[string]struct {
	Settings struct {
		Index struct {
			CreationDate string `json:"creation_date"`
			Analysis     struct {
				Tokenizer map[string]struct {
					Rules []string `json:"user_dictionary_rules"`
				} `json:"tokenizer"`
				Filter struct {
					Synonyms struct {
						Synonyms []string `json:"synonyms"`
					} `json:"ko_synonyms"`
					POS struct {
						StopTags []string `json:"stoptags"`
					} `json:"ko_pos"`
				} `json:"filter"`
			} `json:"analysis"`
		} `json:"index"`
	} `json:"settings"`
}

// Live reads the rules inlined in the settings of the index behind alias;
// nil, nil when there is none.
func (e *Engine) Live(ctx context.Context, alias string) (*Live, error) {
	es := e.c.ES
	res, err := es.Indices.GetSettings(es.Indices.GetSettings.WithContext(ctx), es.Indices.GetSettings.WithIndex(alias))
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode == 404 {
		return nil, nil
	}
	if err := engine.CheckStatus(res); err != nil {
		return nil, err
	}
	var out liveSettings
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("settings of %s: %w", alias, err)
	}
	for physical, idx := range out { // an alias of a logical index has one
		a := idx.Settings.Index.Analysis
		mixed, nori := a.Tokenizer["ko_nori_mixed"]
		ms, _ := strconv.ParseInt(idx.Settings.Index.CreationDate, 10, 64)
		if len(a.Filter.POS.StopTags) == 0 {
			a.Filter.POS.StopTags = analyzers.StopTags()
		}
		return &Live{Physical: physical, Created: time.UnixMilli(ms).UTC(), Nori: nori,
			Rules: analyzers.Rules{UserDictionary: mixed.Rules, Synonyms: a.Filter.Synonyms.Synonyms, StopTags: a.Filter.POS.StopTags}}, nil
	}
	return nil, nil
}

package relevance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/insights"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/seed"
)

// The default demo corpus, as `soomcare seed` loads it.
const DefaultSeed int64 = 20261125

// DefaultNow is the reference date `soomcare seed` uses: the current UTC day.
// Only timestamps depend on it; the text, and so every judgment, is the same
// for every date (see TestCorpusTextIndependentOfDate).
func DefaultNow() time.Time { return time.Now().UTC().Truncate(24 * time.Hour) }

// System names, in table order.
const (
	Platform = "platform" // searchapi over nori indices
	LikeSQL  = "like"     // MySQL LIKE '%q%'
	Standard = "standard" // searchapi over basic-profile (standard analyzer) indices
	Suggest  = "suggest"  // the platform's autocomplete, judged on the cases of suggest.json (suggest.go)
)

// Options of Run.
type Options struct {
	Seed  int64      // 0: DefaultSeed
	Sizes seed.Sizes // zero: seed.DefaultSizes()
	Now   time.Time  // zero: DefaultNow()
	// Prefix names the throwaway indices: aliases <Prefix>-nori-contents,
	// <Prefix>-basic-posts, …; they are deleted when Run returns.
	Prefix   string
	Logger   *slog.Logger
	Progress func(phase string, done, total int64) // optional
}

// Run loads the demo corpus into db (migrated and empty: a throwaway
// database), builds the contents and posts indices from it twice on es
// (nori profile for the platform, basic profile for the standard analyzer)
// with indexer's reindex, runs every judged query on every system and
// returns the scores. The indices are deleted before Run returns.
func Run(ctx context.Context, db *sql.DB, es *engine.Client, opts Options) (rep *Report, err error) {
	opts, err = opts.withDefaults()
	if err != nil {
		return nil, err
	}
	queries, cases, err := judged()
	if err != nil {
		return nil, err
	}
	corpus, err := loadCorpus(ctx, db, es, opts)
	if err != nil {
		return nil, err
	}
	lives := make(map[string]*indexer.Lifecycle, 2)
	defer func() { err = deleteIndices(ctx, lives, err) }()
	if err := buildIndices(ctx, db, es, opts, lives); err != nil {
		return nil, err
	}
	return evaluateSystems(ctx, db, es, opts, corpus, queries, cases)
}

// withDefaults fills the zero fields of o that have a default; Prefix has
// none and is required.
func (o Options) withDefaults() (Options, error) {
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.Sizes == (seed.Sizes{}) {
		o.Sizes = seed.DefaultSizes()
	}
	if o.Now.IsZero() {
		o.Now = DefaultNow()
	}
	if o.Prefix == "" {
		return o, errors.New("relevance: Options.Prefix is required (the throwaway indices' names)")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = func(string, int64, int64) {}
	}
	return o, nil
}

// judged returns the judged queries and the autocomplete cases.
func judged() ([]Query, []SuggestCase, error) {
	queries, err := Queries()
	if err != nil {
		return nil, nil, err
	}
	cases, err := SuggestCases()
	if err != nil {
		return nil, nil, err
	}
	return queries, cases, nil
}

// loadCorpus checks that es has the nori plugin, then generates the demo
// corpus and loads it into db.
func loadCorpus(ctx context.Context, db *sql.DB, es *engine.Client, opts Options) (*seed.Corpus, error) {
	if err := indexer.CheckProfile(ctx, es, mappings.ProfileNori); err != nil {
		return nil, err
	}
	corpus := seed.Generate(opts.Seed, opts.Sizes, opts.Now)
	if _, err := seed.Load(ctx, db, corpus, seed.LoadOptions{Progress: func(table string, done, total int) {
		if total > 0 {
			opts.Progress("seed "+table, int64(done), int64(total))
		}
	}}); err != nil {
		return nil, fmt.Errorf("relevance: load corpus: %w", err)
	}
	return corpus, nil
}

// buildIndices reindexes contents and posts from db once per analysis
// profile, recording each profile's lifecycle in lives before it builds, so
// deleteIndices can remove whatever was created.
func buildIndices(ctx context.Context, db *sql.DB, es *engine.Client, opts Options, lives map[string]*indexer.Lifecycle) error {
	writer := bulk.NewWriter(es.ES, bulk.Options{}, opts.Logger)
	for _, profile := range []string{mappings.ProfileNori, mappings.ProfileBasic} {
		life := indexer.NewLifecycle(es.ES, opts.Prefix+"-"+profile)
		lives[profile] = life
		r := indexer.NewReindexer(db, es.ES, life, writer, opts.Logger)
		for _, name := range []string{mappings.Contents, mappings.Posts} {
			if _, err := r.Run(ctx, name, indexer.ReindexOptions{
				Profile:  profile,
				Keep:     1,
				Progress: func(phase string, done, total int64) { opts.Progress(profile+" "+name+" "+phase, done, total) },
			}); err != nil {
				return fmt.Errorf("relevance: build %s index %s: %w", profile, name, err)
			}
		}
	}
	return nil
}

// deleteIndices deletes every physical contents and posts index of lives and
// returns err joined with the problems met. It cleans up even when ctx was
// cancelled (Ctrl-C).
func deleteIndices(ctx context.Context, lives map[string]*indexer.Lifecycle, err error) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	for _, life := range lives {
		for _, name := range []string{mappings.Contents, mappings.Posts} {
			all, _, perr := life.Physical(cctx, name)
			err = errors.Join(err, perr)
			for _, idx := range all {
				err = errors.Join(err, life.Delete(cctx, idx))
			}
		}
	}
	return err
}

// evaluateSystems runs the judged queries on the platform, LIKE and
// standard-analyzer systems and the autocomplete cases on the platform.
func evaluateSystems(ctx context.Context, db *sql.DB, es *engine.Client, opts Options, corpus *seed.Corpus, queries []Query, cases []SuggestCase) (*Report, error) {
	nori := NewAPI(es.ES, opts.Prefix+"-"+mappings.ProfileNori, opts.Logger)
	basic := NewAPI(es.ES, opts.Prefix+"-"+mappings.ProfileBasic, opts.Logger)
	systems := []Entry{
		{Platform, nori, nil},
		{LikeSQL, Like{DB: db}, nil},
		{Standard, basic, nil},
	}
	rep, err := Evaluate(ctx, corpus, queries, systems, opts.Progress)
	if err != nil {
		return nil, err
	}
	opts.Progress("suggest", 0, int64(len(cases)))
	popular, err := SuggestPopular()
	if err != nil {
		return nil, err
	}
	list := insights.NewPopular()
	counts := make([]insights.QueryCount, len(popular))
	for i, p := range popular {
		counts[i] = insights.QueryCount{Query: p.Query, Count: p.Count}
	}
	list.Set(counts)
	suggester := NewAPIWith(es.ES, opts.Prefix+"-"+mappings.ProfileNori, opts.Logger, list)
	if rep.Suggest, err = EvaluateSuggestWith(ctx, corpus, cases, popular, suggester); err != nil {
		return nil, err
	}
	opts.Progress("suggest", int64(len(cases)), int64(len(cases)))
	rep.Seed, rep.Sizes, rep.Now, rep.Engine = opts.Seed, opts.Sizes, opts.Now, es.Kind
	return rep, nil
}

// Entry is a system under evaluation: a name, and the categories it is
// measured on (nil: all).
type Entry struct {
	Name       string
	System     System
	Categories []string
}

// Result is one query's relevant set and each system's ranking and scores.
type Result struct {
	Query    Query
	Relevant int // documents with grade > 0
	InTitle  int // documents with grade 2
	Ranked   map[string][]uint64
	Recall   map[string]float64
	NDCG     map[string]float64
}

// Report is the outcome of a run.
type Report struct {
	Seed       int64
	Sizes      seed.Sizes
	Now        time.Time
	Engine     string
	Searchable map[string]int // searchable documents per index
	Systems    []string
	// Measured lists, per system, the categories it ran on (nil: all).
	Measured map[string][]string
	Results  []Result
	// Suggest holds the autocomplete cases' results (suggest.go).
	Suggest []SuggestResult
}

// Evaluate judges every query over corpus and runs it on every system.
func Evaluate(ctx context.Context, corpus *seed.Corpus, queries []Query, systems []Entry, progress func(string, int64, int64)) (*Report, error) {
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	docs := map[string][]Doc{}
	rep := &Report{Searchable: map[string]int{}, Measured: map[string][]string{}}
	for _, ix := range []string{mappings.Contents, mappings.Posts} {
		docs[ix] = Searchable(corpus, ix)
		rep.Searchable[ix] = len(docs[ix])
	}
	for _, s := range systems {
		rep.Systems = append(rep.Systems, s.Name)
		rep.Measured[s.Name] = s.Categories
	}
	for i, q := range queries {
		progress("queries", int64(i), int64(len(queries)))
		j := Judge(docs[q.Index], q.Rule)
		if len(j) == 0 {
			return nil, fmt.Errorf("relevance: query %s (%q) has no relevant document in this corpus", q.ID, q.Q)
		}
		res := Result{Query: q, Relevant: len(j), Ranked: map[string][]uint64{}, Recall: map[string]float64{}, NDCG: map[string]float64{}}
		for _, g := range j {
			if g == GradeTitle {
				res.InTitle++
			}
		}
		for _, s := range systems {
			if s.Categories != nil && !slices.Contains(s.Categories, q.Category) {
				continue
			}
			ids, err := s.System.Search(ctx, q.Index, q.Q)
			if err != nil {
				return nil, fmt.Errorf("relevance: %s on query %s (%q): %w", s.Name, q.ID, q.Q, err)
			}
			res.Ranked[s.Name] = ids
			res.Recall[s.Name] = RecallAt(K, ids, j)
			res.NDCG[s.Name] = NDCGAt(K, ids, j)
		}
		rep.Results = append(rep.Results, res)
	}
	progress("queries", int64(len(queries)), int64(len(queries)))
	return rep, nil
}

// Score is a mean over queries.
type Score struct {
	N            int
	Recall, NDCG float64
}

// Mean averages system's scores over the queries of category ("" for all
// the queries the system ran on).
func (r *Report) Mean(system, category string) Score {
	var s Score
	for _, res := range r.Results {
		if category != "" && res.Query.Category != category {
			continue
		}
		rec, ok := res.Recall[system]
		if !ok {
			continue
		}
		s.N++
		s.Recall += rec
		s.NDCG += res.NDCG[system]
	}
	if s.N > 0 {
		s.Recall /= float64(s.N)
		s.NDCG /= float64(s.N)
	}
	return s
}

// WriteTable prints recall@10 and nDCG@10 per category and overall, one
// column pair per system.
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "relevance@%d: %d queries on the demo corpus (seed %d, %d users, %d contents, %d posts, dated %s); searchable: %d contents, %d posts; engine %s\n",
		K, len(r.Results), r.Seed, r.Sizes.Users, r.Sizes.Contents, r.Sizes.Posts, r.Now.Format("2006-01-02"),
		r.Searchable[mappings.Contents], r.Searchable[mappings.Posts], r.Engine)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{"category", "queries"}
	for _, s := range r.Systems {
		head = append(head, s+" R@10", "nDCG@10")
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	rows := append(slices.Clone(Categories), "")
	for _, c := range rows {
		name := c
		if c == "" {
			name = "overall"
		}
		n := 0
		for _, res := range r.Results {
			if c == "" || res.Query.Category == c {
				n++
			}
		}
		if n == 0 {
			continue
		}
		cells := []string{name, fmt.Sprint(n)}
		for _, s := range r.Systems {
			m := r.Mean(s, c)
			if m.N == 0 {
				cells = append(cells, "-", "-")
				continue
			}
			cells = append(cells, fmt.Sprintf("%.3f", m.Recall), fmt.Sprintf("%.3f", m.NDCG))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range r.Systems {
		if cats := r.Measured[s]; cats != nil {
			fmt.Fprintf(w, "%s: measured on %s queries only; its overall is over those %d queries\n", s, strings.Join(cats, ", "), r.Mean(s, "").N)
		}
	}
	fmt.Fprintf(w, "R@%d = relevant in the first %d / min(%d, relevant); nDCG gain 2^grade-1 (grade 2: rule holds in the title, 1: in the text); means over queries\n", K, K, K)
	return r.writeSuggestTable(w)
}

// WriteQueries prints one line per query: its relevant set and each
// system's recall and nDCG.
func (r *Report) WriteQueries(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"id", "index", "query", "relevant", "in title"}
	for _, s := range r.Systems {
		head = append(head, s+" R/nDCG")
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, res := range r.Results {
		cells := []string{res.Query.ID, res.Query.Index, res.Query.Q, fmt.Sprint(res.Relevant), fmt.Sprint(res.InTitle)}
		for _, s := range r.Systems {
			if rec, ok := res.Recall[s]; ok {
				cells = append(cells, fmt.Sprintf("%.2f/%.2f", rec, res.NDCG[s]))
			} else {
				cells = append(cells, "-")
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return r.writeSuggestCases(w)
}

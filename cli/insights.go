package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/insights"
	"github.com/soomcare/soomcare/searchapi"
	"github.com/soomcare/soomcare/web"
)

func newInsightsCmd(e *env) *cobra.Command {
	var from, to string
	var top int
	cmd := &cobra.Command{
		Use:   "insights",
		Short: "Search insights: top queries, queries that found nothing, searches per day",
		Long: `Print what people searched for between --from and --to (dates are whole days in Korea, to
inclusive; RFC 3339 instants also work; default: the last 7 days, at most 92): the most frequent
queries of the search endpoints, those that found nothing, and searches, zero-result searches and
suggest requests per day. It reads insights.data_stream, which 'soomcare serve' fills (insights.*).
The same report is GET /v1/editor/search-insights for editors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var f web.Fields
			r := insights.RangeRule(time.Now).Parse(&f, from, to)
			if top < 1 || top > insights.MaxTop {
				f.Add("top", web.FieldOutOfRange, "")
			}
			if !f.OK() {
				return usageError{fmt.Errorf("insights: bad %s (dates as 2026-12-01 or RFC 3339, from before to, at most %d days; 1 ≤ --top ≤ %d)",
					fieldNames(f.List()), insights.MaxDays, insights.MaxTop)}
			}
			c, err := e.config()
			if err != nil {
				return err
			}
			es, err := openEngine(cmd.Context(), c)
			if err != nil {
				return err
			}
			rep, err := insights.NewReader(es.ES, c.Insights.DataStream).Report(cmd.Context(), r.From, r.To, top)
			if err != nil {
				return fmt.Errorf("insights: %w", err)
			}
			return printInsights(e.stdout, rep)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "first day (2026-12-01) or instant; default 7 days before --to")
	cmd.Flags().StringVar(&to, "to", "", "last day (inclusive) or instant; default now")
	cmd.Flags().IntVar(&top, "top", insights.DefaultTop, "queries per list")
	return cmd
}

func fieldNames(list []web.FieldError) string {
	names := make([]string, len(list))
	for i, fe := range list {
		names[i] = "--" + fe.Field
	}
	return strings.Join(names, ", ")
}

// printInsights writes the report as three tables.
func printInsights(w io.Writer, rep insights.Report) error {
	fmt.Fprintf(w, "search insights %s – %s (KST): %d searches, %d found nothing, %d suggest requests\n",
		rep.From.In(insights.Zone).Format(time.DateTime), rep.To.In(insights.Zone).Format(time.DateTime), rep.Searches, rep.ZeroResults, rep.Suggests)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	lists := []struct {
		title string
		rows  []insights.QueryCount
	}{{"top queries", rep.TopQueries}, {"queries that found nothing", rep.ZeroResultTop}}
	for _, l := range lists {
		fmt.Fprintf(tw, "\n%s\t\t\n#\tsearches\tquery\n", l.title)
		if len(l.rows) == 0 {
			fmt.Fprintln(tw, "-\t0\t(none)")
		}
		for i, q := range l.rows {
			fmt.Fprintf(tw, "%d\t%d\t%s\n", i+1, q.Count, q.Query)
		}
	}
	fmt.Fprintf(tw, "\nper day\t\t\t\ndate\tsearches\tfound nothing\tsuggests\n")
	for _, d := range rep.Days {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", d.Date, d.Searches, d.ZeroResults, d.Suggests)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "\nclicks after a search are not measured (no view is tied to the search that led to it)")
	return err
}

// serveInsights is what serve wires for search insights: the recorder and
// popular list for searchapi (nil when insights.enabled is false), the
// editors' report route; stop ends the writer after its last flush.
type serveInsights struct {
	recorder *insights.Recorder
	popular  *insights.Popular
	mount    func(*gin.Engine)
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// startInsights installs the data stream (idempotent; a failure is a
// warning: the first write creates the stream from the template, and
// recording is never fatal), registers the drop counter on reg, and starts
// the writer and the popular-list refresh until stop (serve defers it, so
// requests still draining are recorded).
func startInsights(ctx context.Context, c *config.Config, es *engine.Client, log *slog.Logger, reg prometheus.Registerer) *serveInsights {
	reader := insights.NewReader(es.ES, c.Insights.DataStream)
	si := &serveInsights{mount: insights.NewAPI(reader, log, nil).Mount, cancel: func() {}}
	if !c.Insights.Enabled {
		return si
	}
	ctx, si.cancel = context.WithCancel(context.WithoutCancel(ctx))
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	rep, err := insights.Setup(sctx, es, c.Insights)
	cancel()
	if err != nil {
		log.Warn("search insights: data stream setup failed; recording goes on", "data_stream", c.Insights.DataStream, "error", web.Withheld(err))
	} else {
		log.Info("search insights: data stream ready", "data_stream", c.Insights.DataStream, "lifecycle", rep.Caps.Lifecycle, "steps", len(rep.Steps))
	}
	si.recorder = insights.NewRecorder(es.ES, insights.NewMetrics(reg), insights.Options{DataStream: c.Insights.DataStream,
		QueueSize: c.Insights.QueueSize, FlushInterval: c.Insights.FlushInterval, Logger: log})
	si.popular = insights.NewPopular()
	si.wg.Add(2)
	go func() { defer si.wg.Done(); si.recorder.Run(ctx) }()
	go func() {
		defer si.wg.Done()
		si.popular.Refresh(ctx, reader, insights.RefreshOptions{Every: c.Insights.PopularRefresh, Window: c.Insights.PopularWindow,
			MinCount: c.Insights.PopularMinCount, Logger: log})
	}()
	return si
}

// options adds the recorder and the popular list to the search API's options.
func (si *serveInsights) options(o searchapi.Options) searchapi.Options {
	if si.recorder != nil {
		o.Recorder, o.Popular = si.recorder, si.popular
	}
	return o
}

// stop ends the writer and the refresh and returns after the last flush.
func (si *serveInsights) stop() {
	si.cancel()
	si.wg.Wait()
}

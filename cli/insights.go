package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/insights"
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
				return usageError{insightsRangeError(f.List(), r, to == "")}
			}
			c, es, err := e.configAndEngine(cmd.Context())
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

// insightsRangeError names what is wrong with --from, --to and --top. A
// span over MaxDays is reported as such (RangeRule files it under "to",
// which misleads when --to was not given: it is then now).
func insightsRangeError(list []web.FieldError, r web.Range, toDefaulted bool) error {
	var problems []string
	for _, fe := range list {
		switch {
		case fe.Field == "top":
			problems = append(problems, fmt.Sprintf("--top must be 1 to %d", insights.MaxTop))
		case fe.Code == web.FieldInvalidDate:
			problems = append(problems, fmt.Sprintf("--%s must be a date such as 2026-12-01 or an RFC 3339 instant", fe.Field))
		case fe.Field == "to" && !r.From.IsZero() && r.To.After(r.From) && spanDays(r) > insights.MaxDays:
			end := "--to"
			if toDefaulted {
				end = "now (no --to)"
			}
			problems = append(problems, fmt.Sprintf("the range from --from %s to %s is %d days; at most %d: give a later --from or an earlier --to",
				r.From.In(insights.Zone).Format(time.DateOnly), end, spanDays(r), insights.MaxDays))
		case fe.Field == "to" && !r.From.IsZero() && !r.To.After(r.From):
			problems = append(problems, "--to must be after --from")
		default:
			problems = append(problems, fmt.Sprintf("--%s is out of range (2000-01-01 to 2199-12-31)", fe.Field))
		}
	}
	return fmt.Errorf("insights: %s", strings.Join(problems, "; "))
}

// spanDays is the length of r in days, rounded up.
func spanDays(r web.Range) int {
	return int((r.To.Sub(r.From) + 24*time.Hour - 1) / (24 * time.Hour))
}

// printInsights writes the report as three tables.
func printInsights(w io.Writer, rep insights.Report) error {
	fmt.Fprintf(w, "search insights %s – %s (KST): %d searches, %d found nothing, %d suggest requests\n",
		rep.From.In(insights.Zone).Format(time.DateTime), rep.To.In(insights.Zone).Format(time.DateTime), rep.Searches, rep.ZeroResults, rep.Suggests)
	tw := newTableWriter(w)
	lists := []struct {
		title string
		rows  []insights.QueryCount
	}{{"top queries", rep.TopQueries}, {"queries that found nothing", rep.ZeroResultTop}}
	for _, l := range lists {
		fmt.Fprintf(w, "\n%s\n", l.title)
		fmt.Fprintln(tw, "#\tsearches\tquery")
		if len(l.rows) == 0 {
			fmt.Fprintln(tw, "-\t0\t(none)")
		}
		for i, q := range l.rows {
			fmt.Fprintf(tw, "%d\t%d\t%s\n", i+1, q.Count, q.Query)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\nper day\n")
	fmt.Fprintln(tw, "date\tsearches\tfound nothing\tsuggests")
	for _, d := range rep.Days {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", d.Date, d.Searches, d.ZeroResults, d.Suggests)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "\nclicks after a search are not measured (no view is tied to the search that led to it)")
	return err
}

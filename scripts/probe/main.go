// Command probe replays the findings of issue #26 (the outside-style probe of
// the running API) against a running `soomcare serve` and prints each check
// as held or FAILED; it exits 1 when any failed and 2 on bad usage.
// scripts/contract.sh runs it against its contract server after Schemathesis.
//
//	go run ./scripts/probe -url http://127.0.0.1:8080 -token "$ADMIN_TOKEN"
//
// The token is an admin's access token (the probe hides a post with it and
// reads the editors' search insights). Every other account is signed up
// through the API with a random run id, so the probe can run twice against
// one server; sign-up throttles must be off (as on the contract server).
// Each line names the finding (1–8 of the issue) and a letter:
//
//	held    3a  GET /v1/me/symptoms?from=0000-01-01&to=0000-01-02 → 400 invalid_date
//	FAILED  5b  PATCH /v1/posts/{hidden} by a non-author → 403 forbidden (want 404 not_found, as a missing post)
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// committedSecret is the JWT secret scripts/run-local.sh carried in the
// repository until issue #26 (finding 1): serve must refuse it.
const committedSecret = "local-development-secret-change-me-0123456789"

// options are the command line.
type options struct {
	url            string
	token          string
	issuer         string
	popularWait    time.Duration
	recordWait     time.Duration
	enumeration    string
	serveBinary    string
	requestTimeout time.Duration
	only           string
}

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return 2
	}
	p := &probe{
		c:     &client{base: strings.TrimRight(o.url, "/"), hc: &http.Client{Timeout: o.requestTimeout}},
		o:     o,
		run:   randomLetters("bcdfghjkmnpqrstvwxz", 6),
		out:   stdout,
		admin: user{token: o.token},
	}
	p.all(ctx)
	failed := 0
	for _, r := range p.results {
		if !r.ok {
			failed++
		}
	}
	fmt.Fprintf(stdout, "probe: %d checks, %d failed (run %s)\n", len(p.results), failed, p.run)
	if failed > 0 {
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "base URL of the running serve")
	fs.StringVar(&o.token, "token", "", "an admin's access token (required)")
	fs.StringVar(&o.issuer, "issuer", "soomcare", "auth.jwt_issuer of the server (the iss of forged tokens)")
	fs.DurationVar(&o.popularWait, "popular-wait", 15*time.Second,
		"how long after the searches are recorded the popular list must have been rebuilt (> insights.popular_refresh)")
	fs.DurationVar(&o.recordWait, "record-wait", 30*time.Second,
		"how long the searches may take to show in the editors' search insights (insights.flush_interval + engine refresh)")
	fs.StringVar(&o.enumeration, "signup-enumeration", "throttle",
		"SECURITY.md's answer to sign-up enumeration: throttle (email_taken answers bounded per client, then 429) or generic (a registered e-mail's sign-up answers like a new one's)")
	fs.StringVar(&o.serveBinary, "serve-binary", "",
		"a soomcare binary (environment inherited): also check that `serve` refuses the committed secret, and sweep sign-ups on a second serve with the sign-up throttle on")
	fs.DurationVar(&o.requestTimeout, "request-timeout", 15*time.Second, "timeout of each request")
	fs.StringVar(&o.only, "only", "", "comma-separated findings to run (1-8); empty: all")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.token == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "probe: -token (an admin's access token) is required and no arguments are taken")
		fs.Usage()
		return o, fmt.Errorf("usage")
	}
	if o.enumeration != "throttle" && o.enumeration != "generic" {
		fmt.Fprintf(stderr, "probe: -signup-enumeration must be throttle or generic (got %q)\n", o.enumeration)
		return o, fmt.Errorf("usage")
	}
	return o, nil
}

// result is one printed check.
type result struct {
	id   string // finding and letter: 3a
	what string // the request: GET /v1/me/symptoms?from=…
	got  string // what it answered: 400 bad_parameter
	want string // printed when it failed
	ok   bool
}

// probe runs the checks and prints each as it is decided.
type probe struct {
	c       *client
	o       options
	run     string // random letters in every e-mail, nickname and query of this run
	out     io.Writer
	admin   user
	results []result
}

// check records and prints one check.
func (p *probe) check(id, what string, got answer, ok bool, want string) {
	p.record(result{id: id, what: what, got: got.String(), want: want, ok: ok})
}

func (p *probe) record(r result) {
	p.results = append(p.results, r)
	verdict, tail := "held  ", ""
	if !r.ok {
		verdict = "FAILED"
		if r.want != "" {
			tail = " (want " + r.want + ")"
		}
	}
	fmt.Fprintf(p.out, "%s  %-3s %s → %s%s\n", verdict, r.id, shorten(r.what, 110), r.got, tail)
}

// setupFailed records a failed preparation step: the checks of that
// finding cannot run, which is a failure, not a pass.
func (p *probe) setupFailed(id string, err error) {
	p.record(result{id: id, what: "setup", got: err.Error(), want: "a working setup"})
}

func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// wants reports whether f is selected by -only.
func (p *probe) wants(f string) bool {
	if p.o.only == "" {
		return true
	}
	for _, s := range strings.Split(p.o.only, ",") {
		if strings.TrimSpace(s) == f {
			return true
		}
	}
	return false
}

// all runs every selected finding in order.
func (p *probe) all(ctx context.Context) {
	me, err := p.c.me(ctx, p.o.token)
	if err != nil {
		p.setupFailed("0", fmt.Errorf("the admin token does not sign in: %w", err))
		return
	}
	p.admin = me
	findings := []struct {
		id  string
		run func(context.Context)
	}{
		{"1", p.finding1}, {"2", p.finding2}, {"3", p.finding3}, {"4", p.finding4},
		{"5", p.finding5}, {"6", p.finding6}, {"7", p.finding7}, {"8", p.finding8},
	}
	for _, f := range findings {
		if p.wants(f.id) {
			f.run(ctx)
		}
	}
}

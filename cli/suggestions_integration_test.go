package cli

import (
	"strings"
	"testing"

	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testenv"
)

// `soomcare suggestions`: remove and block are stored in their suggested
// form, listed, undone by id and recorded as the CLI operator; list reads
// the insights stream (none here: an empty list, not an error).
func TestIntegrationSuggestionsCLI(t *testing.T) {
	osURL := testenv.OpenSearchURL(t)
	db, dsn := testdb.New(t)
	environ := []string{
		"SOOMCARE_MYSQL_DSN=" + dsn,
		"SOOMCARE_SEARCH_ENGINE=opensearch",
		"SOOMCARE_SEARCH_ADDRESSES=" + osURL,
		"SOOMCARE_INSIGHTS_DATA_STREAM=" + randomPrefix(t, "s") + "-insights",
		"USER=ops",
	}
	for _, c := range []struct {
		args []string
		code int
		out  string // in stdout (or stderr when the command fails)
	}{
		{[]string{"suggestions"}, ExitUsage, "subcommand"},
		{[]string{"suggestions", "remove", "천식 pentest 오염 테스트 scam.pentest.example"}, ExitOK, `removed "천식 pentest 오염 테스트 scam.pentest.example" (block 1, match exact)`},
		{[]string{"suggestions", "block", "--by", "alice", "cjstlr"}, ExitOK, `blocked "천식" (block 2, match contains)`},
		{[]string{"suggestions", "block", "천식"}, ExitOK, "already blocked"},
		{[]string{"suggestions", "block", "ㅊㅅ"}, ExitUsage, "초성"},
		{[]string{"suggestions", "blocked"}, ExitOK, "cli:alice"},
		{[]string{"suggestions", "unblock", "2"}, ExitOK, `unblocked "천식"`},
		{[]string{"suggestions", "unblock", "2"}, ExitFailure, "no block 2"},
		{[]string{"suggestions", "unblock", "x"}, ExitUsage, "positive"},
		{[]string{"suggestions", "history"}, ExitOK, "unblock"},
		{[]string{"suggestions", "list"}, ExitOK, "(none)"},
	} {
		code, out, stderr := run(t, environ, c.args...)
		if code != c.code || !strings.Contains(out+stderr, c.out) {
			t.Errorf("%v: exit %d (want %d)\n%s%s(want %q)", c.args, code, c.code, out, stderr, c.out)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM search_suggestion_changes WHERE actor_user_id IS NULL AND actor IN ('cli:ops', 'cli:alice')`).Scan(&n); err != nil || n != 3 {
		t.Errorf("audit rows of the CLI = %d, %v; want 3", n, err)
	}
}

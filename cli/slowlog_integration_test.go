package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testenv"
)

// The reminders dispatcher and reindex log slow statements (and reindex
// slow engine calls) at warn, like serve and cdc: with both thresholds at
// 1ns every statement and call is slow.
func TestIntegrationSlowLogOfRemindersAndReindex(t *testing.T) {
	_, dsn := testdb.New(t)
	osURL := testenv.OpenSearchURL(t)
	fcm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, `{"name":"projects/p/messages/1"}`)
	}))
	defer fcm.Close()
	prefix := fmt.Sprintf("slowlog%d", rand.Uint32())
	t.Cleanup(func() { deletePrefixed(t, osURL, prefix) })
	common := []string{"SOOMCARE_MYSQL_DSN=" + dsn, "SOOMCARE_LOG_FORMAT=json", "SOOMCARE_STARTUP_WAIT_TIMEOUT=20s",
		"SOOMCARE_MYSQL_SLOW_QUERY_THRESHOLD=1ns", "SOOMCARE_SEARCH_SLOW_CALL_THRESHOLD=1ns"}
	tests := []struct {
		name string
		env  []string
		args []string
		want []string // messages of warn lines
	}{
		{"reminders --once", []string{"SOOMCARE_PUSH_ENDPOINT=" + fcm.URL, "SOOMCARE_PUSH_PROJECT_ID=p", "SOOMCARE_PUSH_STATIC_TOKEN=test-token"},
			[]string{"reminders", "--once"}, []string{"slow statement"}},
		{"reindex", []string{"SOOMCARE_SEARCH_ENGINE=opensearch", "SOOMCARE_SEARCH_ADDRESSES=" + osURL, "SOOMCARE_SEARCH_INDEX_PREFIX=" + prefix},
			[]string{"reindex", "posts", "--no-progress"}, []string{"slow statement", "slow engine call"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, append(append([]string{}, common...), tt.env...), tt.args...)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			seen := map[string]bool{}
			for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
				var l struct {
					Message string `json:"message"`
					Level   string `json:"log.level"`
				}
				if json.Unmarshal([]byte(line), &l) == nil && l.Level == "warn" {
					seen[l.Message] = true
				}
			}
			for _, w := range tt.want {
				if !seen[w] {
					t.Errorf("no warn line %q in:\n%s", w, stderr)
				}
			}
		})
	}
}

// deletePrefixed deletes the indices whose names start with prefix.
func deletePrefixed(t *testing.T, url, prefix string) {
	res, err := http.Get(url + "/_cat/indices/" + prefix + "*?format=json&h=index")
	if err != nil {
		t.Errorf("list %s indices: %v", prefix, err)
		return
	}
	defer res.Body.Close()
	var rows []struct{ Index string }
	if err := json.NewDecoder(res.Body).Decode(&rows); err != nil {
		t.Errorf("list %s indices: %v", prefix, err)
		return
	}
	for _, r := range rows {
		req, _ := http.NewRequest(http.MethodDelete, url+"/"+r.Index, nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}
}

package cdc

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/soomcare/soomcare/mappings"
)

// freeAddr is a loopback address nobody listens on (the worker listens on it).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// getStatus reads GET /status of the worker's metrics listener.
func getStatus(t *testing.T, addr string) (Status, map[string]any) {
	t.Helper()
	res, err := http.Get("http://" + addr + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /status: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var raw map[string]any
	if err := json.NewDecoder(res.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(raw)
	var st Status
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return st, raw
}

// GET /status on the metrics listener serves what `cdc status` prints, and
// its counters count what they say: one event per row change (an update's
// two images are one), each document once per batch, no conflicts without
// a replay.
func TestIntegrationCDCStatus(t *testing.T) {
	eng := testEngines(t)[0]
	addr := freeAddr(t)
	p, db := streaming(t, eng, Config{MetricsAddr: addr})

	st, raw := getStatus(t, addr)
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"bytes_behind", "checkpoint", "checkpoint_purged", "checkpoint_server", "conflicts", "dead_letters", "docs_written",
		"events_applied", "files_behind", "phase", "pipeline", "saved_ago_seconds", "saved_at", "server_position",
		"source_moved", "source_server"}
	if !slices.Equal(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
	if st.Phase != PhaseStreaming || st.Pipeline != "default" || st.CheckpointPurged || st.BytesBehind < 0 || st.Checkpoint.File == "" || st.Server.File == "" ||
		st.SourceServer == "" || st.CheckpointServer != st.SourceServer || st.SourceMoved {
		t.Errorf("after the snapshot: %+v", st)
	}
	if st.EventsApplied != 0 || st.DocsWritten != 0 || st.Conflicts != 0 || st.DeadLetters != 0 {
		t.Errorf("counters after the snapshot: %+v", st)
	}

	mustExec(t, db, `INSERT INTO posts (id, user_id, category, title, body) VALUES (2, 1, '자유', '새 글', '본문')`)
	for i := range 20 {
		mustExec(t, db, `UPDATE posts SET title = ? WHERE id = 1`, "고친 제목 "+string(rune('가'+i)))
	}
	p.caughtUp(30 * time.Second)
	st, _ = getStatus(t, addr)
	saved, err := p.worker.Store().Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if before(saved.Position, st.Checkpoint) || st.SavedAgoSeconds < 0 || st.SavedAgoSeconds > 60 { // heartbeats move it on
		t.Errorf("checkpoint %s saved %.1fs ago, store has %s since", st.Checkpoint, st.SavedAgoSeconds, saved.Position)
	}
	if st.EventsApplied != 21 {
		t.Errorf("events_applied %d, want 21 (1 insert + 20 single-row updates)", st.EventsApplied)
	}
	if st.DocsWritten < 2 || st.DocsWritten > 21 || st.Conflicts != 0 {
		t.Errorf("docs_written %d (want 2…21: posts 1 and 2, once per batch), conflicts %d (want 0)", st.DocsWritten, st.Conflicts)
	}
	if d := p.doc(mappings.Posts, 1); d == nil || d["title"] != "고친 제목 "+string(rune('가'+19)) {
		t.Errorf("post 1 = %v", d)
	}
}

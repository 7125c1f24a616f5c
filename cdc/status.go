package cdc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/web"
)

// PhaseNone is Status.Phase of a pipeline that has no checkpoint yet: the
// worker has not run (it will snapshot first).
const PhaseNone = "none"

// Status is the pipeline's progress as `soomcare cdc status` prints it and
// GET /status on the metrics listener answers it. It is read from MySQL (the
// checkpoint row, the server's binlog, the dead letters), so any process can
// report it, standby workers included.
type Status struct {
	Pipeline string `json:"pipeline"`
	Phase    string `json:"phase"` // PhaseSnapshot, PhaseStreaming or PhaseNone
	// Checkpoint is the saved position; every event before it is acknowledged
	// by the engine (invariant 1).
	Checkpoint      mysql.Position `json:"checkpoint"`
	SavedAt         time.Time      `json:"saved_at"`
	SavedAgoSeconds float64        `json:"saved_ago_seconds"`
	// Server is where the server writes its binlog now.
	Server mysql.Position `json:"server_position"`
	// BytesBehind is how much binlog lies between the checkpoint and the
	// server's position, across files; FilesBehind how many rotations. Both
	// are -1 when the checkpoint's file is no longer on the server (purged:
	// the worker exits 4).
	BytesBehind      int64 `json:"bytes_behind"`
	FilesBehind      int   `json:"files_behind"`
	CheckpointPurged bool  `json:"checkpoint_purged"`
	// CheckpointServer is the server whose binlog the checkpoint is in (""
	// when saved before it was recorded), SourceServer the one the binlog is
	// read from now (mysql.BinlogServer). SourceMoved: they differ, the
	// positions cannot be compared, and the worker exits 7.
	CheckpointServer string `json:"checkpoint_server"`
	SourceServer     string `json:"source_server"`
	SourceMoved      bool   `json:"source_moved"`
	// Snapshot is the progress of an unfinished snapshot (phase snapshot).
	Snapshot *SnapshotStatus `json:"snapshot,omitempty"`
	// Counters saved with the checkpoint since the pipeline's first start
	// (reset by `cdc reset`); see the fields of State.
	EventsApplied int64 `json:"events_applied"`
	DocsWritten   int64 `json:"docs_written"`
	Conflicts     int64 `json:"conflicts"`
	DeadLetters   int64 `json:"dead_letters"`
}

// SnapshotStatus is how far an unfinished snapshot got.
type SnapshotStatus struct {
	Done      []string   `json:"done"`  // indices complete
	Index     string     `json:"index"` // the index being loaded
	AfterID   uint64     `json:"after_id"`
	StartedAt *time.Time `json:"started_at,omitempty"`
}

// BinlogFile is one binlog file the server still has.
type BinlogFile struct {
	Name string
	Size int64
}

// Status reads the pipeline's status at now. A pipeline without a
// checkpoint has Phase PhaseNone and nothing else but its name.
func (s *Store) Status(ctx context.Context, now time.Time) (Status, error) {
	out := Status{Pipeline: s.name, Phase: PhaseNone}
	st, err := s.Load(ctx)
	if errors.Is(err, ErrNoState) {
		return out, nil
	}
	if err != nil {
		return out, err
	}
	server, err := mysql.CurrentPosition(ctx, s.binlogDB())
	if err != nil {
		return out, err
	}
	logs, err := BinlogLogs(ctx, s.binlogDB())
	if err != nil {
		return out, err
	}
	dead, err := s.DeadLetterCount(ctx)
	if err != nil {
		return out, err
	}
	if out.SourceServer, err = mysql.BinlogServer(ctx, s.binlogDB()); err != nil {
		return out, err
	}
	out.CheckpointServer = st.Server
	out.SourceMoved = st.Server != "" && st.Server != out.SourceServer
	out.Phase, out.Checkpoint, out.Server = st.Phase, st.Position, server
	out.SavedAt, out.SavedAgoSeconds = st.UpdatedAt, max(0, now.Sub(st.UpdatedAt).Seconds()) // saved after now was read: 0
	out.BytesBehind, out.FilesBehind = Behind(st.Position, server, logs)
	out.CheckpointPurged = out.FilesBehind < 0
	if st.Phase == PhaseSnapshot {
		out.Snapshot = &SnapshotStatus{Done: st.SnapshotDone, Index: st.SnapshotIndex, AfterID: st.SnapshotLastID}
		if out.Snapshot.Done == nil {
			out.Snapshot.Done = []string{}
		}
		if !st.SnapshotSince.IsZero() {
			out.Snapshot.StartedAt = &st.SnapshotSince
		}
	}
	out.EventsApplied, out.DocsWritten, out.Conflicts, out.DeadLetters = st.EventsApplied, st.DocsWritten, st.Conflicts, dead
	return out, nil
}

// Behind is the binlog between checkpoint and server: bytes (across files,
// from the sizes in logs) and rotations. Both are -1 when the checkpoint's
// file is not in logs (purged), or the server's is not and differs (the
// server rotated between the two reads: the next read knows).
func Behind(checkpoint, server mysql.Position, logs []BinlogFile) (bytes int64, files int) {
	if checkpoint.File == server.File {
		return max(0, int64(server.Pos)-int64(checkpoint.Pos)), 0
	}
	i := slices.IndexFunc(logs, func(f BinlogFile) bool { return f.Name == checkpoint.File })
	j := slices.IndexFunc(logs, func(f BinlogFile) bool { return f.Name == server.File })
	if i < 0 || j < i {
		return -1, -1
	}
	bytes = max(0, logs[i].Size-int64(checkpoint.Pos))
	for _, f := range logs[i+1 : j] {
		bytes += f.Size
	}
	return bytes + int64(server.Pos), j - i
}

// statusHandler answers GET /status with the pipeline's Status as JSON, or
// the error envelope 503 unavailable when MySQL cannot tell (the cause is
// logged, never sent).
func (w *Worker) statusHandler(rw http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	st, err := w.store.Status(ctx, time.Now())
	rw.Header().Set("Cache-Control", "no-store")
	if err != nil {
		w.logger.Warn("status: reading the checkpoint failed", "err", err)
		web.WriteError(rw, r, nil, web.Unavailable("the pipeline's state cannot be read now (MySQL); try again", err))
		return
	}
	rw.Header().Set("Content-Type", "application/json")
	json.NewEncoder(rw).Encode(st)
}

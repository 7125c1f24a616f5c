package indexer

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/mysql"
)

// Live history: every physical index carries its own lifecycle in its
// mapping's _meta.lifecycle (Marks), written by the steps that change it:
// Create notes the build's start, Finish its completion, a swap when it
// became live and, on the index the alias leaves, when and at which binlog
// position it stopped being live. From these, --keep keeps the indices that
// were live most recently (not the newest names), a half-built index is never
// a rollback target, and a rollback knows from when to catch its target up.

// Marks is the lifecycle an index carries in _meta.lifecycle. Every field is
// always written (zero when cleared), whether the engine merges or replaces
// _meta on update.
type Marks struct {
	BuildStarted    time.Time      `json:"build_started_at"`
	Built           time.Time      `json:"built_at"`
	LiveSince       time.Time      `json:"live_since"`
	Retired         time.Time      `json:"retired_at"`       // database clock when the alias left it
	RetiredPosition mysql.Position `json:"retired_position"` // binlog position then ("" when unknown)
	RolledBack      time.Time      `json:"rolled_back_at"`   // the alias left it by a rollback
}

// IndexState is one physical index of a logical index as the engine knows it.
type IndexState struct {
	Physical      string
	Live          bool // the alias points at it
	SchemaVersion int  // _meta.schema_version of its mapping
	Created       time.Time
	Loading       bool // still tuned for bulk loading (refresh off until Finish)
	Marks         Marks
}

// Legacy reports an index built before lifecycle marks existed.
func (s IndexState) Legacy() bool { return s.Marks.BuildStarted.IsZero() && s.Marks.Built.IsZero() }

// HalfBuilt reports a build that never finished: still tuned for loading, or
// started and never marked built.
func (s IndexState) HalfBuilt() bool {
	return s.Loading || (!s.Marks.BuildStarted.IsZero() && s.Marks.Built.IsZero())
}

// wasLive reports an index the alias once pointed at (unknown for legacy
// indices, which count as such).
func (s IndexState) wasLive() bool {
	return s.Legacy() || !s.Marks.LiveSince.IsZero() || !s.Marks.Retired.IsZero()
}

// States lists the physical indices of name, oldest name first.
func (l *Lifecycle) States(ctx context.Context, name string) ([]IndexState, error) {
	all, current, err := l.Physical(ctx, name)
	if err != nil || len(all) == 0 {
		return nil, err
	}
	metas, err := l.metas(ctx, all)
	if err != nil {
		return nil, err
	}
	settings, err := l.loadSettings(ctx, all)
	if err != nil {
		return nil, err
	}
	out := make([]IndexState, 0, len(all))
	for _, idx := range all {
		s := IndexState{Physical: idx, Live: idx == current, Loading: settings[idx].refreshOff, Created: settings[idx].created}
		m := metas[idx]
		s.SchemaVersion = schemaVersionOf(m)
		if raw, ok := m["lifecycle"]; ok {
			b, _ := json.Marshal(raw)
			if err := json.Unmarshal(b, &s.Marks); err != nil {
				return nil, fmt.Errorf("lifecycle of %s: %w", idx, err)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func schemaVersionOf(meta map[string]any) int {
	switch v := meta["schema_version"].(type) {
	case float64:
		return int(v)
	case string:
		n, _ := strconv.Atoi(v)
		return n
	}
	return 0
}

// readJSON decodes the JSON answer of an engine call into v and closes its
// body. The call's error, a status that is not 2xx (engine.CheckStatus) and
// a body that does not decode are errors "what: …".
func readJSON(res *esapi.Response, err error, what string, v any) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer res.Body.Close()
	if err := engine.CheckStatus(res); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// metas reads the _meta of each index's mapping.
func (l *Lifecycle) metas(ctx context.Context, indices []string) (map[string]map[string]any, error) {
	res, err := l.es.Indices.GetMapping(l.es.Indices.GetMapping.WithIndex(indices...), l.es.Indices.GetMapping.WithContext(ctx))
	var body map[string]struct {
		Mappings struct {
			Meta map[string]any `json:"_meta"`
		} `json:"mappings"`
	}
	if err := readJSON(res, err, fmt.Sprintf("mappings of %v", indices), &body); err != nil {
		return nil, err
	}
	out := make(map[string]map[string]any, len(body))
	for idx, b := range body {
		if b.Mappings.Meta == nil {
			b.Mappings.Meta = map[string]any{}
		}
		out[idx] = b.Mappings.Meta
	}
	return out, nil
}

type indexSettings struct {
	refreshOff bool
	created    time.Time
}

// loadSettings reads whether each index is tuned for loading and when it was created.
func (l *Lifecycle) loadSettings(ctx context.Context, indices []string) (map[string]indexSettings, error) {
	res, err := l.es.Indices.GetSettings(l.es.Indices.GetSettings.WithIndex(indices...),
		l.es.Indices.GetSettings.WithName("index.refresh_interval", "index.creation_date"), l.es.Indices.GetSettings.WithContext(ctx))
	var body map[string]struct {
		Settings struct {
			Index struct {
				RefreshInterval string `json:"refresh_interval"`
				CreationDate    string `json:"creation_date"`
			} `json:"index"`
		} `json:"settings"`
	}
	if err := readJSON(res, err, fmt.Sprintf("settings of %v", indices), &body); err != nil {
		return nil, err
	}
	out := make(map[string]indexSettings, len(body))
	for idx, b := range body {
		ms, _ := strconv.ParseInt(b.Settings.Index.CreationDate, 10, 64)
		out[idx] = indexSettings{refreshOff: b.Settings.Index.RefreshInterval == "-1", created: time.UnixMilli(ms).UTC()}
	}
	return out, nil
}

// updateMarks rewrites the lifecycle marks of physical with change applied,
// keeping the rest of its _meta (schema_version and the builders' notes).
// Callers hold the index's build lock, so no two updates race.
func (l *Lifecycle) updateMarks(ctx context.Context, physical string, change func(*Marks)) error {
	metas, err := l.metas(ctx, []string{physical})
	if err != nil {
		return err
	}
	meta := metas[physical]
	if meta == nil {
		meta = map[string]any{}
	}
	var m Marks
	if raw, ok := meta["lifecycle"]; ok {
		b, _ := json.Marshal(raw)
		_ = json.Unmarshal(b, &m) // unreadable marks are rewritten whole
	}
	change(&m)
	meta["lifecycle"] = m
	body, err := json.Marshal(map[string]any{"_meta": meta})
	if err != nil {
		return fmt.Errorf("lifecycle of %s: %w", physical, err)
	}
	res, err := l.es.Indices.PutMapping([]string{physical}, bytes.NewReader(body), l.es.Indices.PutMapping.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("lifecycle of %s: %w", physical, err)
	}
	defer res.Body.Close()
	if err := engine.CheckStatus(res); err != nil {
		return fmt.Errorf("lifecycle of %s: %w", physical, err)
	}
	return nil
}

// history orders the indices a rollback may return to, the most recently
// live first: finished, not live, not abandoned by a rollback, and once
// live. Indices retired at a known moment come first, newest retirement
// first; legacy indices without marks follow, newest name first.
func history(states []IndexState) []IndexState {
	var out []IndexState
	for _, s := range states {
		if !s.Live && !s.HalfBuilt() && s.Marks.RolledBack.IsZero() && s.wasLive() {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b IndexState) int {
		if a.Marks.Retired.IsZero() != b.Marks.Retired.IsZero() {
			if a.Marks.Retired.IsZero() {
				return 1
			}
			return -1
		}
		if c := b.Marks.Retired.Compare(a.Marks.Retired); c != 0 {
			return c
		}
		return cmp.Compare(b.Physical, a.Physical)
	})
	return out
}

// Orphans lists the half-built indices of name behind no alias (a killed
// build's). Only a caller holding the build lock may delete them.
func Orphans(states []IndexState) []string {
	var out []string
	for _, s := range states {
		if !s.Live && s.HalfBuilt() {
			out = append(out, s.Physical)
		}
	}
	return out
}

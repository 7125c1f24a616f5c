package logstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/engine"
)

// Lifecycle kinds an engine may offer.
const (
	LifecycleILM  = "ilm" // Elasticsearch index lifecycle management
	LifecycleISM  = "ism" // OpenSearch index state management plugin
	LifecycleNone = ""
)

// Capabilities is what the engine offers for log storage.
type Capabilities struct {
	Kind string // config.EngineElasticsearch | config.EngineOpenSearch
	// DataStreamAPI: GET/PUT _data_stream answer. Without it (the
	// Elasticsearch integ-test build lacks the data-streams module) the
	// core still creates the stream at the first write through the template.
	DataStreamAPI bool
	Lifecycle     string // LifecycleILM, LifecycleISM or LifecycleNone
	// Probe says how the lifecycle support was found, for the operator.
	Probe string
}

// Store installs and maintains one log data stream.
type Store struct {
	es   *engine.Client
	opts Options
}

// New returns a store for the data stream of o on es.
func New(es *engine.Client, o Options) *Store { return &Store{es: es, opts: o} }

// Detect asks the engine which data stream and lifecycle APIs it has. A
// missing API answers 400, 404 or 405 (no handler for the path); anything
// else unexpected is an error, never taken as "absent".
func (s *Store) Detect(ctx context.Context) (Capabilities, error) {
	caps := Capabilities{Kind: s.es.Kind}
	status, _, err := s.call(ctx, http.MethodGet, "/_data_stream", nil)
	if err != nil {
		return caps, err
	}
	caps.DataStreamAPI, err = present(status, "GET /_data_stream")
	if err != nil {
		return caps, err
	}
	probe, kind := "GET /_ilm/status", LifecycleILM
	if s.es.Kind == config.EngineOpenSearch {
		probe, kind = "GET /_plugins/_ism/policies", LifecycleISM
	}
	status, _, err = s.call(ctx, http.MethodGet, strings.TrimPrefix(probe, "GET "), nil)
	if err != nil {
		return caps, err
	}
	ok, err := present(status, probe)
	if err != nil {
		return caps, err
	}
	if ok {
		caps.Lifecycle = kind
	}
	caps.Probe = fmt.Sprintf("%s answered %d", probe, status)
	return caps, nil
}

// present maps a probe's status to whether the API exists.
func present(status int, probe string) (bool, error) {
	switch {
	case status >= 200 && status < 300:
		return true, nil
	case status == http.StatusBadRequest, status == http.StatusNotFound, status == http.StatusMethodNotAllowed:
		return false, nil
	default:
		return false, fmt.Errorf("logstore: %s answered HTTP %d", probe, status)
	}
}

// call sends one request and returns the status and up to 1 MiB of the
// body. Transport failures wrap engine.ErrUnavailable; a 429/5xx answer is
// returned as a status for the caller to judge.
func (s *Store) call(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, path, r)
	if err != nil {
		return 0, nil, fmt.Errorf("logstore: %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := s.es.ES.Perform(req)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return 0, nil, err
		}
		return 0, nil, fmt.Errorf("%w: %s %s: %w", engine.ErrUnavailable, method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %s %s: read answer: %w", engine.ErrUnavailable, method, path, err)
	}
	return res.StatusCode, raw, nil
}

// must is call for requests that have to succeed: a non-2xx answer becomes
// an *engine.StatusError naming the engine's reason.
func (s *Store) must(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	status, raw, err := s.call(ctx, method, path, body)
	if err != nil {
		return nil, err
	}
	if status >= 300 {
		return nil, fmt.Errorf("logstore: %s %s: %w", method, path, statusError(status, raw))
	}
	return raw, nil
}

// statusError classifies an error answer like the rest of the platform does.
func statusError(status int, raw []byte) error {
	return engine.CheckStatus(&esapi.Response{StatusCode: status, Body: io.NopCloser(bytes.NewReader(raw))})
}

func (s *Store) name() string { return url.PathEscape(s.opts.DataStream) }

// Step is one line of what Setup did.
type Step struct {
	What   string // "index template logs-soomcare-default"
	Result string // "installed", "created", "exists", "not available", …
	Note   string // what the operator should know or do, or ""
}

// Report is what Setup found and did.
type Report struct {
	Caps  Capabilities
	Steps []Step
}

// LifecycleInstalled reports whether a lifecycle policy now manages the stream.
func (r Report) LifecycleInstalled() bool { return r.Caps.Lifecycle != LifecycleNone }

// Setup installs the lifecycle policy (where the engine has one), the index
// template and the data stream, in that order so the first backing index
// is already managed. It is idempotent: a second run updates the policy and
// the template and leaves the data stream alone.
func (s *Store) Setup(ctx context.Context) (Report, error) { return s.setup(ctx, false) }

// ErrNoLifecycle is SetupRequiringLifecycle on an engine without ILM or ISM.
var ErrNoLifecycle = errors.New("logstore: the engine has no lifecycle support (ILM/ISM)")

// SetupRequiringLifecycle is Setup for deployments that must not fill the
// disk: on an engine without lifecycle support it installs nothing (no
// template, no data stream) and returns ErrNoLifecycle with the report of
// what the engine offers.
func (s *Store) SetupRequiringLifecycle(ctx context.Context) (Report, error) {
	return s.setup(ctx, true)
}

func (s *Store) setup(ctx context.Context, requireLifecycle bool) (Report, error) {
	caps, err := s.Detect(ctx)
	rep := Report{Caps: caps}
	if err != nil {
		return rep, err
	}
	if requireLifecycle && caps.Lifecycle == LifecycleNone {
		return rep, ErrNoLifecycle
	}
	step, err := s.setupPolicy(ctx, caps)
	if err != nil {
		return rep, err
	}
	rep.Steps = append(rep.Steps, step)
	ilm := ""
	if caps.Lifecycle == LifecycleILM {
		ilm = s.opts.DataStream
	}
	tmpl, err := IndexTemplate(s.opts, ilm)
	if err != nil {
		return rep, err
	}
	if _, err := s.must(ctx, http.MethodPut, "/_index_template/"+s.name(), tmpl); err != nil {
		return rep, err
	}
	rep.Steps = append(rep.Steps, Step{What: "index template " + s.opts.DataStream, Result: "installed",
		Note: "ECS keyword mappings; matches exactly the data stream's name, priority 200"})
	step, err = s.setupDataStream(ctx, caps)
	if err != nil {
		return rep, err
	}
	rep.Steps = append(rep.Steps, step)
	return rep, nil
}

func (s *Store) setupPolicy(ctx context.Context, caps Capabilities) (Step, error) {
	switch caps.Lifecycle {
	case LifecycleILM:
		body, err := ILMPolicy(s.opts)
		if err != nil {
			return Step{}, err
		}
		if _, err := s.must(ctx, http.MethodPut, "/_ilm/policy/"+s.name(), body); err != nil {
			return Step{}, err
		}
		return Step{What: "lifecycle policy (ILM) " + s.opts.DataStream, Result: "installed", Note: s.policyNote()}, nil
	case LifecycleISM:
		return s.putISM(ctx)
	default:
		return Step{What: "lifecycle policy", Result: "not available on this engine",
			Note: fmt.Sprintf("no %s (%s): nothing rolls over or deletes old logs by itself; run `soomcare logs rollover` and `soomcare logs prune` from cron (hourly)",
				map[string]string{config.EngineOpenSearch: "ISM plugin", config.EngineElasticsearch: "ILM"}[caps.Kind], caps.Probe)}, nil
	}
}

func (s *Store) policyNote() string {
	return fmt.Sprintf("rollover at %s per primary shard or %s, delete %s after rollover", s.opts.RolloverSize, s.opts.RolloverAge, s.opts.Retention)
}

// putISM creates the ISM policy, or updates it: ISM refuses a plain PUT over
// an existing policy and wants its sequence number and primary term.
func (s *Store) putISM(ctx context.Context) (Step, error) {
	body, err := ISMPolicy(s.opts)
	if err != nil {
		return Step{}, err
	}
	path := "/_plugins/_ism/policies/" + s.name()
	status, raw, err := s.call(ctx, http.MethodGet, path, nil)
	if err != nil {
		return Step{}, err
	}
	result := "installed"
	switch {
	case status == http.StatusOK:
		var cur struct {
			SeqNo       *int64 `json:"_seq_no"`
			PrimaryTerm *int64 `json:"_primary_term"`
		}
		if err := json.Unmarshal(raw, &cur); err != nil || cur.SeqNo == nil || cur.PrimaryTerm == nil {
			return Step{}, fmt.Errorf("logstore: GET %s: no _seq_no/_primary_term in the answer", path)
		}
		path = fmt.Sprintf("%s?if_seq_no=%d&if_primary_term=%d", path, *cur.SeqNo, *cur.PrimaryTerm)
		result = "updated"
	case status != http.StatusNotFound:
		return Step{}, fmt.Errorf("logstore: GET %s: %w", path, statusError(status, raw))
	}
	if _, err := s.must(ctx, http.MethodPut, path, body); err != nil {
		return Step{}, err
	}
	note := s.policyNote()
	if result == "updated" {
		note += "; indices already managed keep the policy version they started with (ISM change_policy moves them)"
	}
	return Step{What: "lifecycle policy (ISM) " + s.opts.DataStream, Result: result, Note: note}, nil
}

// dataStreamInfo is the part of GET _data_stream/<name> Setup reads.
type dataStreamInfo struct {
	DataStreams []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
		Indices  []struct {
			Name string `json:"index_name"`
		} `json:"indices"`
	} `json:"data_streams"`
}

func (s *Store) setupDataStream(ctx context.Context, caps Capabilities) (Step, error) {
	what := "data stream " + s.opts.DataStream
	if !caps.DataStreamAPI {
		return Step{What: what, Result: "created by the first write",
			Note: "this engine has no _data_stream API; the core creates the stream from the template when the shipper writes"}, nil
	}
	status, raw, err := s.call(ctx, http.MethodGet, "/_data_stream/"+s.name(), nil)
	if err != nil {
		return Step{}, err
	}
	if status == http.StatusOK {
		var info dataStreamInfo
		if err := json.Unmarshal(raw, &info); err != nil || len(info.DataStreams) != 1 {
			return Step{}, fmt.Errorf("logstore: GET _data_stream/%s: unexpected answer", s.opts.DataStream)
		}
		ds := info.DataStreams[0]
		note := fmt.Sprintf("%d backing indices; template changes apply from the next backing index (`soomcare logs rollover --now`)", len(ds.Indices))
		if ds.Template != s.opts.DataStream {
			note = fmt.Sprintf("it was created from template %q, not %q: run `soomcare logs rollover --now` so the next backing index uses these mappings", ds.Template, s.opts.DataStream)
		}
		if caps.Lifecycle == LifecycleISM {
			note += "; ISM manages only backing indices created after its policy"
		}
		return Step{What: what, Result: "exists", Note: note}, nil
	}
	if status != http.StatusNotFound {
		return Step{}, fmt.Errorf("logstore: GET _data_stream/%s: %w", s.opts.DataStream, statusError(status, raw))
	}
	if _, err := s.must(ctx, http.MethodPut, "/_data_stream/"+s.name(), nil); err != nil {
		return Step{}, fmt.Errorf("%w (an index or alias named %s that is not a data stream must be renamed or deleted first)", err, s.opts.DataStream)
	}
	return Step{What: what, Result: "created"}, nil
}

// RolloverResult is the engine's answer to a rollover.
type RolloverResult struct {
	RolledOver bool            `json:"rolled_over"`
	OldIndex   string          `json:"old_index"`
	NewIndex   string          `json:"new_index"`
	Conditions map[string]bool `json:"conditions"`
}

// Rollover rolls the data stream over through the core _rollover API: when
// force is set unconditionally, otherwise once the write index is older than
// logs.rollover_age or larger than logs.rollover_size. OpenSearch's core API
// has no per-shard size condition, so it gets max_size, the same with the
// template's single primary shard.
func (s *Store) Rollover(ctx context.Context, force bool) (RolloverResult, error) {
	var body []byte
	if !force {
		sizeKey := "max_primary_shard_size"
		if s.es.Kind == config.EngineOpenSearch {
			sizeKey = "max_size"
		}
		body, _ = json.Marshal(map[string]any{"conditions": map[string]string{"max_age": s.opts.RolloverAge, sizeKey: s.opts.RolloverSize}})
	}
	raw, err := s.must(ctx, http.MethodPost, "/"+s.name()+"/_rollover", body)
	if err != nil {
		return RolloverResult{}, err
	}
	var res RolloverResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return RolloverResult{}, fmt.Errorf("logstore: decode rollover answer: %w", err)
	}
	return res, nil
}

// Backing is one backing index of the data stream.
type Backing struct {
	Index      string
	Generation int
	Created    time.Time
	// RolledOver is when the next generation was created; zero for the
	// write index.
	RolledOver time.Time
}

// Backings lists the backing indices, oldest first, through the core
// settings API (the data stream's name resolves to them on both engines).
func (s *Store) Backings(ctx context.Context) ([]Backing, error) {
	raw, err := s.must(ctx, http.MethodGet, "/"+s.name()+"/_settings/index.creation_date", nil)
	if err != nil {
		return nil, err
	}
	var body map[string]struct {
		Settings struct {
			Index struct {
				CreationDate json.Number `json:"creation_date"`
			} `json:"index"`
		} `json:"settings"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, fmt.Errorf("logstore: decode settings: %w", err)
	}
	var out []Backing
	for index, v := range body {
		gen, ok := generation(index)
		ms, err := v.Settings.Index.CreationDate.Int64()
		if !ok || err != nil || !strings.HasPrefix(index, ".ds-") {
			return nil, fmt.Errorf("logstore: %s is not a backing index of data stream %s (is it a plain index?)", index, s.opts.DataStream)
		}
		out = append(out, Backing{Index: index, Generation: gen, Created: time.UnixMilli(ms)})
	}
	slices.SortFunc(out, func(a, b Backing) int { return a.Generation - b.Generation })
	for i := 0; i+1 < len(out); i++ {
		out[i].RolledOver = out[i+1].Created
	}
	return out, nil
}

// Prune deletes the backing indices rolled over at least logs.retention
// before now — what the lifecycle policy's delete step does — and never the
// write index. With dryRun it only lists them.
func (s *Store) Prune(ctx context.Context, now time.Time, dryRun bool) ([]string, error) {
	secs, ok := config.AgeSeconds(s.opts.Retention)
	if !ok {
		return nil, fmt.Errorf("logstore: logs.retention %q is not an age", s.opts.Retention)
	}
	backings, err := s.Backings(ctx)
	if err != nil {
		return nil, err
	}
	var expired []string
	for _, b := range backings {
		if b.RolledOver.IsZero() || now.Sub(b.RolledOver) < time.Duration(secs)*time.Second {
			continue
		}
		expired = append(expired, b.Index)
		if dryRun {
			continue
		}
		if _, err := s.must(ctx, http.MethodDelete, "/"+url.PathEscape(b.Index), nil); err != nil {
			return expired[:len(expired)-1], err
		}
	}
	return expired, nil
}

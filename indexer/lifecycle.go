package indexer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/soomcare/soomcare/analyzers"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/mysql"
)

// Index lifecycle: every logical index (contents, posts, users) is an alias
// `<prefix>-<name>` over a physical index `<prefix>-<name>-<UTC timestamp>`.
// Rebuilds create a new physical index and move the alias in one _aliases
// call, so searches see the old index or the new one, never neither.

// ErrNoPrevious means a rollback found no older physical index to return to.
var ErrNoPrevious = errors.New("no previous index to roll back to")

// ErrNoriMissing means the nori profile was asked of an engine without the plugin.
var ErrNoriMissing = errors.New("the nori analysis profile needs the analysis-nori plugin")

// Lifecycle manages physical indices and aliases.
type Lifecycle struct {
	es     *elasticsearch.Client
	prefix string
	now    func() time.Time
	rules  RulesSource
	shapes map[string]Shape
}

// RulesSource gives the analysis rules a new physical index is built with,
// read when it is created; without one the embedded seed rules are used.
type RulesSource interface {
	Rules(ctx context.Context) (analyzers.Rules, error)
}

// Shape is the shards and replicas of one logical index. Zero Shards means
// 1; nil Replicas keeps auto_expand_replicas 0-1.
type Shape struct {
	Shards   int
	Replicas *int
}

// LifecycleOption configures NewLifecycle.
type LifecycleOption func(*Lifecycle)

// WithRules builds new indices with the rules of src.
func WithRules(src RulesSource) LifecycleOption { return func(l *Lifecycle) { l.rules = src } }

// WithShapes builds new indices of each named logical index with its shape.
func WithShapes(shapes map[string]Shape) LifecycleOption {
	return func(l *Lifecycle) { l.shapes = shapes }
}

// NewLifecycle returns a lifecycle manager for aliases under prefix.
func NewLifecycle(es *elasticsearch.Client, prefix string, opts ...LifecycleOption) *Lifecycle {
	l := &Lifecycle{es: es, prefix: prefix, now: time.Now}
	for _, o := range opts {
		o(l)
	}
	return l
}

// indexOptions is how a new physical index of name is built: the profile,
// the rules of the lifecycle's source and the name's shape.
func (l *Lifecycle) indexOptions(ctx context.Context, name, profile string) (mappings.Options, error) {
	o := mappings.Options{Profile: profile}
	if l.rules != nil {
		r, err := l.rules.Rules(ctx)
		if err != nil {
			return o, fmt.Errorf("analysis rules for %s: %w", name, err)
		}
		o.Rules = &r
	}
	if sh, ok := l.shapes[name]; ok {
		o.Shards, o.Replicas = sh.Shards, sh.Replicas
	}
	return o, nil
}

// Alias is the name searches use for a logical index.
func (l *Lifecycle) Alias(name string) string { return l.prefix + "-" + name }

// CheckProfile verifies that the engine can build indices with profile; with
// the nori profile and no nori plugin it says how to install it.
func CheckProfile(ctx context.Context, c *engine.Client, profile string) error {
	if profile != mappings.ProfileNori {
		return nil
	}
	plugins, err := c.Plugins(ctx)
	if err != nil {
		return fmt.Errorf("check plugins: %w", err)
	}
	if slices.Contains(plugins, "analysis-nori") {
		return nil
	}
	how := "bin/elasticsearch-plugin install analysis-nori on every node, then restart them"
	if c.Kind == "opensearch" {
		how = "bin/opensearch-plugin install analysis-nori on every node (AWS OpenSearch Service ships it), then restart them"
	}
	return fmt.Errorf("%w: the engine at %s has none; install it (%s) or set search.analysis_profile: basic", ErrNoriMissing, strings.Join(c.Addresses, ","), how)
}

// Create makes a new physical index for name with the profile's analysis and
// bulk-load settings (no refresh, no replicas); Finish restores them.
func (l *Lifecycle) Create(ctx context.Context, name, profile string) (string, error) {
	opts, err := l.indexOptions(ctx, name, profile)
	if err != nil {
		return "", err
	}
	body, err := mappings.IndexWith(name, opts)
	if err != nil {
		return "", err
	}
	// Tune for the load: refresh off and no replicas until Finish.
	var parsed map[string]any
	if err := json.Unmarshal(body, &parsed); err != nil {
		return "", fmt.Errorf("index body of %s: %w", name, err)
	}
	settings := parsed["settings"].(map[string]any)
	idx, _ := settings["index"].(map[string]any)
	if idx == nil {
		idx = map[string]any{}
		settings["index"] = idx
	}
	idx["refresh_interval"] = "-1"
	idx["number_of_replicas"] = 0
	delete(idx, "auto_expand_replicas")
	if m, ok := parsed["mappings"].(map[string]any); ok { // the build's start (history.go)
		meta, _ := m["_meta"].(map[string]any)
		if meta == nil {
			meta = map[string]any{}
			m["_meta"] = meta
		}
		meta["lifecycle"] = Marks{BuildStarted: l.now().UTC()}
	}
	body, _ = json.Marshal(parsed)

	physical := fmt.Sprintf("%s-%s-%s", l.prefix, name, l.now().UTC().Format("20060102t150405.000"))
	physical = strings.ReplaceAll(physical, ".", "")
	res, err := l.es.Indices.Create(physical, l.es.Indices.Create.WithContext(ctx), l.es.Indices.Create.WithBody(bytes.NewReader(body)))
	if err != nil {
		return "", fmt.Errorf("create index %s: %w", physical, err)
	}
	defer res.Body.Close()
	if err := engine.CheckStatus(res); err != nil {
		return "", fmt.Errorf("create index %s: %w", physical, err)
	}
	return physical, nil
}

// Finish restores search settings after a load: refresh every second and
// the replicas of the index's shape (auto_expand_replicas 0-1 without one).
// Where the cluster has the data nodes for them, it waits (at most
// replicaWait) for the replicas to be copied, so the alias moves to an index
// that survives a node loss; then it refreshes the index.
//
// It first marks the index built (_meta.lifecycle.built_at): an index without
// the mark is a build that never finished, never a rollback target, and an
// orphan once no build holds its lock.
func (l *Lifecycle) Finish(ctx context.Context, physical string) error {
	if err := l.updateMarks(ctx, physical, func(m *Marks) { m.Built = l.now().UTC() }); err != nil {
		return err
	}
	sh := l.shapeOf(physical)
	body := `{"index":{"refresh_interval":"1s","auto_expand_replicas":"0-1"}}`
	if sh.Replicas != nil {
		body = fmt.Sprintf(`{"index":{"refresh_interval":"1s","auto_expand_replicas":"false","number_of_replicas":%d}}`, *sh.Replicas)
	}
	res, err := l.es.Indices.PutSettings(strings.NewReader(body), l.es.Indices.PutSettings.WithIndex(physical), l.es.Indices.PutSettings.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("settings of %s: %w", physical, err)
	}
	res.Body.Close()
	if err := engine.CheckStatus(res); err != nil {
		return fmt.Errorf("settings of %s: %w", physical, err)
	}
	if err := l.waitReplicas(ctx, physical, sh); err != nil {
		return err
	}
	return l.Refresh(ctx, physical)
}

// replicaWait bounds Finish's wait for replicas; past it the index is used
// with the replicas still being copied (it is yellow, every search works).
const replicaWait = 2 * time.Minute

// shapeOf is the shape of the logical index physical belongs to.
func (l *Lifecycle) shapeOf(physical string) Shape {
	for name, sh := range l.shapes {
		if isPhysicalOf(physical, l.prefix, name) {
			return sh
		}
	}
	return Shape{}
}

// waitReplicas waits for physical to turn green when the cluster has more
// data nodes than the replicas wanted (auto: 1), so that they can be placed.
func (l *Lifecycle) waitReplicas(ctx context.Context, physical string, sh Shape) error {
	want := 1
	if sh.Replicas != nil {
		want = *sh.Replicas
	}
	if want == 0 {
		return nil
	}
	h, err := health(ctx, l.es, "")
	if err != nil || h.DataNodes <= want {
		return err
	}
	if _, err := health(ctx, l.es, physical, l.es.Cluster.Health.WithWaitForStatus("green"),
		l.es.Cluster.Health.WithTimeout(replicaWait)); err != nil {
		return fmt.Errorf("replicas of %s: %w", physical, err)
	}
	return nil
}

// health is _cluster/health (of index, when not empty); a wait that times
// out is not an error (TimedOut says so).
func health(ctx context.Context, es *elasticsearch.Client, index string, o ...func(*esapi.ClusterHealthRequest)) (engine.Health, error) {
	var h engine.Health
	o = append(o, es.Cluster.Health.WithContext(ctx))
	if index != "" {
		o = append(o, es.Cluster.Health.WithIndex(index))
	}
	res, err := es.Cluster.Health(o...)
	if err != nil {
		return h, fmt.Errorf("cluster health: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != 408 { // 408: the wait timed out, the body is the health
		if err := engine.CheckStatus(res); err != nil {
			return h, fmt.Errorf("cluster health: %w", err)
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&h); err != nil {
		return h, fmt.Errorf("cluster health: %w", err)
	}
	return h, nil
}

// LiveShape is the shape of the physical index behind an alias, as the
// engine reports it, and how many of its shard copies are active.
type LiveShape struct {
	Physical      string
	Shards        int
	Replicas      int
	AutoExpand    string // auto_expand_replicas ("0-1", or "" / "false" when fixed)
	Health        string // the index's health: green | yellow | red
	ActiveShards  int
	UnassignedAll int
}

// String is how verify prints it: "1 shards × 1 replicas (auto 0-1), green, 2 active".
func (s LiveShape) String() string {
	auto := ""
	if s.AutoExpand != "" && s.AutoExpand != "false" {
		auto = " (auto " + s.AutoExpand + ")"
	}
	return fmt.Sprintf("%d shards × %d replicas%s, %s, %d active / %d unassigned shard copies",
		s.Shards, s.Replicas, auto, s.Health, s.ActiveShards, s.UnassignedAll)
}

// Shape reports the live shape of the index behind the alias of name.
func (l *Lifecycle) Shape(ctx context.Context, name string) (LiveShape, error) {
	_, current, err := l.Physical(ctx, name)
	if err != nil || current == "" {
		return LiveShape{}, err
	}
	out := LiveShape{Physical: current}
	res, err := l.es.Indices.GetSettings(l.es.Indices.GetSettings.WithIndex(current), l.es.Indices.GetSettings.WithContext(ctx),
		l.es.Indices.GetSettings.WithName("index.number_of_shards", "index.number_of_replicas", "index.auto_expand_replicas"))
	var body map[string]struct {
		Settings struct {
			Index struct {
				Shards     string `json:"number_of_shards"`
				Replicas   string `json:"number_of_replicas"`
				AutoExpand string `json:"auto_expand_replicas"`
			} `json:"index"`
		} `json:"settings"`
	}
	if err := readJSON(res, err, "settings of "+current, &body); err != nil {
		return out, err
	}
	st := body[current].Settings.Index
	out.Shards, _ = strconv.Atoi(st.Shards)
	out.Replicas, _ = strconv.Atoi(st.Replicas)
	out.AutoExpand = st.AutoExpand
	h, err := health(ctx, l.es, current)
	if err != nil {
		return out, err
	}
	out.Health, out.ActiveShards, out.UnassignedAll = h.Status, h.ActiveShards, h.UnassignedShards
	return out, nil
}

// Refresh makes everything written to index searchable.
func (l *Lifecycle) Refresh(ctx context.Context, index string) error {
	res, err := l.es.Indices.Refresh(l.es.Indices.Refresh.WithIndex(index), l.es.Indices.Refresh.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("refresh %s: %w", index, err)
	}
	defer res.Body.Close()
	return engine.CheckStatus(res)
}

// Count returns the number of documents in index.
func (l *Lifecycle) Count(ctx context.Context, index string) (int64, error) {
	return countDocs(ctx, l.es, index)
}

// Physical lists the physical indices of name, oldest first, and which one
// the alias points at ("" when the alias does not exist).
func (l *Lifecycle) Physical(ctx context.Context, name string) (all []string, current string, err error) {
	pattern := l.prefix + "-" + name + "-*"
	res, err := l.es.Indices.GetAlias(l.es.Indices.GetAlias.WithIndex(pattern), l.es.Indices.GetAlias.WithContext(ctx))
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", pattern, err)
	}
	defer res.Body.Close()
	if res.StatusCode == 404 {
		return nil, "", nil
	}
	if err := engine.CheckStatus(res); err != nil {
		return nil, "", fmt.Errorf("list %s: %w", pattern, err)
	}
	var body map[string]struct {
		Aliases map[string]json.RawMessage `json:"aliases"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return nil, "", fmt.Errorf("list %s: %w", pattern, err)
	}
	alias := l.Alias(name)
	for idx, a := range body {
		if !isPhysicalOf(idx, l.prefix, name) {
			continue
		}
		all = append(all, idx)
		if _, ok := a.Aliases[alias]; ok {
			current = idx
		}
	}
	sort.Strings(all) // timestamps sort chronologically
	return all, current, nil
}

// Unfinished lists the physical indices of name that a build left
// unfinished — still tuned for bulk loading (refresh off, set by Create and
// undone by Finish) or never marked built by Finish — and that the alias
// does not point to. Delete them only while holding name's build lock.
func (l *Lifecycle) Unfinished(ctx context.Context, name string) ([]string, error) {
	states, err := l.States(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("unfinished indices of %s: %w", l.Alias(name), err)
	}
	return Orphans(states), nil
}

// isPhysicalOf guards against name prefixes that overlap (posts vs posts-archive).
func isPhysicalOf(index, prefix, name string) bool {
	rest, ok := strings.CutPrefix(index, prefix+"-"+name+"-")
	return ok && len(rest) > 0 && rest[0] >= '0' && rest[0] <= '9'
}

// Swap points the alias of name at physical in one atomic _aliases call.
// The index it leaves is marked retired a minute before now by this
// process's clock (a reindex marks it with the database's clock and binlog
// position instead, see Reindexer).
func (l *Lifecycle) Swap(ctx context.Context, name, physical string) error {
	return l.swap(ctx, name, physical, retirement{at: l.now().UTC().Add(-time.Minute)})
}

// retirement is how the index an alias leaves is marked: the database clock
// and binlog position noted before the swap, and whether a rollback left it.
type retirement struct {
	at       time.Time
	pos      mysql.Position
	rollback bool
}

// swap marks the live index of name retired, moves the alias to physical,
// then marks physical live. The retirement is written before the alias
// moves, so a retired index always knows from when to catch up; the live
// mark after it is best effort (a live index needs none).
func (l *Lifecycle) swap(ctx context.Context, name, physical string, r retirement) error {
	_, current, err := l.Physical(ctx, name)
	if err != nil {
		return err
	}
	if current != "" && current != physical {
		err := l.updateMarks(ctx, current, func(m *Marks) {
			m.Retired, m.RetiredPosition, m.RolledBack = r.at, r.pos, time.Time{}
			if r.rollback {
				m.RolledBack = r.at
			}
		})
		if err != nil {
			return fmt.Errorf("alias %s left on %s: %w", l.Alias(name), current, err)
		}
	}
	if err := l.moveAlias(ctx, name, physical); err != nil {
		return err
	}
	_ = l.updateMarks(ctx, physical, func(m *Marks) {
		m.LiveSince, m.Retired, m.RetiredPosition, m.RolledBack = l.now().UTC(), time.Time{}, mysql.Position{}, time.Time{}
	})
	return nil
}

// moveAlias points the alias of name at physical alone.
func (l *Lifecycle) moveAlias(ctx context.Context, name, physical string) error {
	alias := l.Alias(name)
	actions := []map[string]any{
		{"remove": map[string]any{"index": l.prefix + "-" + name + "-*", "alias": alias, "must_exist": false}},
		{"add": map[string]any{"index": physical, "alias": alias}},
	}
	return l.aliases(ctx, actions)
}

func (l *Lifecycle) aliases(ctx context.Context, actions []map[string]any) error {
	body, _ := json.Marshal(map[string]any{"actions": actions})
	res, err := l.es.Indices.UpdateAliases(bytes.NewReader(body), l.es.Indices.UpdateAliases.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("update aliases: %w", err)
	}
	defer res.Body.Close()
	if err := engine.CheckStatus(res); err != nil {
		// Older engines reject must_exist; fall back to a remove that matches only existing aliases.
		var se *engine.StatusError
		if errors.As(err, &se) && strings.Contains(se.Reason, "must_exist") {
			for _, a := range actions {
				if r, ok := a["remove"].(map[string]any); ok {
					delete(r, "must_exist")
				}
			}
			return l.aliases(ctx, actions)
		}
		return fmt.Errorf("update aliases: %w", err)
	}
	return nil
}

// RollbackTarget is the index a rollback of name would return to: the one
// live most recently before the current one (see history), or ErrNoPrevious.
func (l *Lifecycle) RollbackTarget(ctx context.Context, name string) (IndexState, error) {
	states, err := l.States(ctx, name)
	if err != nil {
		return IndexState{}, err
	}
	h := history(states)
	if len(h) == 0 {
		all := make([]string, 0, len(states))
		for _, s := range states {
			all = append(all, s.Physical)
		}
		return IndexState{}, fmt.Errorf("%s: %w (indices: %v; half-built ones, ones a rollback left and ones never live do not count)",
			l.Alias(name), ErrNoPrevious, all)
	}
	return h[0], nil
}

// Prune keeps the live index of name and the keep-1 indices live most
// recently before it (the rollback targets, in history's order) and deletes
// every other physical index of name: older ones, half-built ones, ones a
// rollback left, ones never live. Call it holding name's build lock. It
// returns what it deleted.
func (l *Lifecycle) Prune(ctx context.Context, name string, keep int) ([]string, error) {
	states, err := l.States(ctx, name)
	if err != nil {
		return nil, err
	}
	kept := map[string]bool{}
	for _, s := range states {
		kept[s.Physical] = s.Live
	}
	for i, s := range history(states) {
		kept[s.Physical] = i < keep-1
	}
	var deleted []string
	for _, s := range states {
		if kept[s.Physical] {
			continue
		}
		if err := l.Delete(ctx, s.Physical); err != nil {
			return deleted, err
		}
		deleted = append(deleted, s.Physical)
	}
	return deleted, nil
}

// Delete removes a physical index (used for failed builds and pruning).
func (l *Lifecycle) Delete(ctx context.Context, physical string) error {
	res, err := l.es.Indices.Delete([]string{physical}, l.es.Indices.Delete.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("delete %s: %w", physical, err)
	}
	defer res.Body.Close()
	if res.StatusCode == 404 {
		return nil
	}
	return engine.CheckStatus(res)
}

// SchemaVersion returns the _meta.schema_version of the mapping behind the
// alias of name, and 0 when the alias does not exist. Compare it with
// mappings.SchemaVersion to know whether the index predates the binary's
// document shape and must be rebuilt.
func (l *Lifecycle) SchemaVersion(ctx context.Context, name string) (int, error) {
	alias := l.Alias(name)
	res, err := l.es.Indices.GetMapping(l.es.Indices.GetMapping.WithIndex(alias), l.es.Indices.GetMapping.WithContext(ctx))
	if err != nil {
		return 0, fmt.Errorf("mapping of %s: %w", alias, err)
	}
	defer res.Body.Close()
	if res.StatusCode == 404 {
		return 0, nil
	}
	if err := engine.CheckStatus(res); err != nil {
		return 0, fmt.Errorf("mapping of %s: %w", alias, err)
	}
	var body map[string]struct {
		Mappings struct {
			Meta struct {
				SchemaVersion int `json:"schema_version"`
			} `json:"_meta"`
		} `json:"mappings"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return 0, fmt.Errorf("mapping of %s: %w", alias, err)
	}
	v := 0
	for _, idx := range body { // one physical index behind the alias
		v = idx.Mappings.Meta.SchemaVersion
	}
	return v, nil
}

// Exists reports whether index (or alias) exists; errors count as "no".
func (l *Lifecycle) Exists(ctx context.Context, index string) bool {
	if index == "" {
		return false
	}
	res, err := l.es.Indices.Exists([]string{index}, l.es.Indices.Exists.WithContext(ctx))
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == 200
}

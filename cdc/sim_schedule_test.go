package cdc

import (
	"bufio"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The fault simulation's schedules (TestDisruptiveCDCSimulation): a seeded
// generator of steps — writes, poison rows and their fixes, SIGKILLs, a second
// worker racing for the lock, the lock's connection killed, MariaDB and the
// engine stopped, reindex and rollback — that the runner plays in order
// against real processes. A seed and a profile give the same steps every
// time; only their timing varies.

// Environment of the simulation.
const (
	// EnvSimSeeds selects the schedules: a comma list of seeds and inclusive
	// ranges, e.g. "7", "1,5,9" or "1-200". Unset: the CI seeds in simSeedFile.
	EnvSimSeeds = "SOOMCARE_TEST_SIM_SEEDS"
	// EnvSimProfile is "ci" (default: short outages, a few minutes for the CI
	// seeds) or "full" (the ranges: MariaDB 5–60 s, the engine 5–90 s).
	EnvSimProfile = "SOOMCARE_TEST_SIM_PROFILE"
	simSeedFile   = "testdata/sim_seeds.txt"
)

type simKind int

const (
	simWrite      simKind = iota // a burst of app writes
	simPoison                    // a row the indexer cannot turn into a document
	simFix                       // a valid change of a poisoned row
	simKill                      // SIGKILL of the active worker
	simRacer                     // a second worker process waiting for the lock
	simLockLoss                  // the lock holder's MySQL connection killed
	simMySQLDown                 // MariaDB stopped, then started
	simEngineDown                // the engine stopped, then started
	simReindex                   // soomcare reindex NAME
	simRollback                  // soomcare reindex --rollback NAME
)

var simKindNames = [...]string{"write", "poison", "fix", "kill", "racer", "lock-loss", "mysql-down", "engine-down", "reindex", "rollback"}

func (k simKind) String() string { return simKindNames[k] }

// fault says whether the step is a fault (counted in the run's summary).
func (k simKind) fault() bool { return k != simWrite && k != simFix }

// simPoisonKind is one way a row defeats the indexer.
type simPoisonKind struct {
	Name  string
	Table string // contents | posts
	Set   string // makes the row whose id is the last argument poisoned
	Args  []any  // arguments before the id
}

// The poison rows: JSON of the wrong shape in contents.tags (the column's
// CHECK allows any valid JSON; the source refuses all but a string array),
// a tag the engine refuses (one keyword term over Lucene's 32766 bytes), and
// counters outside the mapping's integer range (INT UNSIGNED in MySQL).
var simPoisonKinds = []simPoisonKind{
	{Name: "tags-number-array", Table: "contents", Set: `UPDATE contents SET tags = '[1]' WHERE id = ?`},
	{Name: "tags-object", Table: "contents", Set: `UPDATE contents SET tags = '{"태그": "천식"}' WHERE id = ?`},
	{Name: "tags-scalar", Table: "contents", Set: `UPDATE contents SET tags = '"천식"' WHERE id = ?`},
	{Name: "tags-nested", Table: "contents", Set: `UPDATE contents SET tags = '[["흡입기"]]' WHERE id = ?`},
	{Name: "tags-immense-term", Table: "contents", Set: `UPDATE contents SET tags = JSON_ARRAY(?) WHERE id = ?`, Args: []any{strings.Repeat("천식", 6000)}},
	{Name: "like-count-out-of-range", Table: "posts", Set: `UPDATE posts SET like_count = 4294967295 WHERE id = ?`},
	{Name: "comment-count-out-of-range", Table: "posts", Set: `UPDATE posts SET comment_count = 3000000000 WHERE id = ?`},
}

// simFixes heal a row of each table (the columns every poison kind touches).
var simFixes = map[string]string{
	"contents": `UPDATE contents SET tags = '["흡입기", "고침"]' WHERE id = ?`,
	"posts":    `UPDATE posts SET like_count = 1, comment_count = 0 WHERE id = ?`,
}

// The rows poison steps may use, seeded by simSeed: contents 1..10 and posts
// 1001..1020 of user 21, which the background writers never touch (their
// nickname fan-outs and likes come from the schedule's writes only).
const (
	simAuthor        = 21
	simContents      = 10
	simPostBase      = 1000
	simPosts         = 20
	simUsers         = 25
	simBackgroundTop = 300 // background writers change posts 1..300 and users 1..20
)

// simRow is a row of a table.
type simRow struct {
	Table string
	ID    uint64
}

func (r simRow) String() string { return fmt.Sprintf("%s/%d", r.Table, r.ID) }

// simOp is one app write of a write step.
type simOp struct {
	Name string
	SQL  []string // statements of one transaction
	Args [][]any
}

func (o simOp) String() string { return o.Name }

// simStep is one step of a schedule.
type simStep struct {
	At     time.Duration // planned start, from the schedule's start
	Gap    time.Duration // pause before the step
	Kind   simKind
	Dur    time.Duration // outage length; pause before the restart after a kill
	Index  string        // reindex, rollback
	Poison int           // simPoisonKinds index (poison)
	Row    simRow        // poison, fix
	Ops    []simOp       // write
}

func (s simStep) String() string {
	at := fmt.Sprintf("t+%5.1fs %-11s", s.At.Seconds(), s.Kind)
	switch s.Kind {
	case simWrite:
		names := make([]string, len(s.Ops))
		for i, o := range s.Ops {
			names[i] = o.Name
		}
		return at + " " + strings.Join(names, ", ")
	case simPoison:
		return fmt.Sprintf("%s %s %s", at, s.Row, simPoisonKinds[s.Poison].Name)
	case simFix:
		return fmt.Sprintf("%s %s", at, s.Row)
	case simKill:
		return fmt.Sprintf("%s active worker; a new one after %s if none is left", at, s.Dur)
	case simMySQLDown, simEngineDown:
		return fmt.Sprintf("%s for %s", at, s.Dur)
	case simReindex, simRollback:
		return at + " " + s.Index
	}
	return at
}

// simSchedule is the steps of one seed under one profile.
type simSchedule struct {
	Seed    uint64
	Profile string
	Steps   []simStep
}

func (s simSchedule) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "schedule seed=%d profile=%s (%d steps, %d faults):\n", s.Seed, s.Profile, len(s.Steps), s.faults())
	for i, st := range s.Steps {
		fmt.Fprintf(&b, "  %2d. %s\n", i+1, st)
	}
	return b.String()
}

func (s simSchedule) faults() int {
	n := 0
	for _, st := range s.Steps {
		if st.Kind.fault() {
			n++
		}
	}
	return n
}

// replay is the command that runs this schedule again.
func (s simSchedule) replay() string {
	return fmt.Sprintf("%s=%d %s=%s SOOMCARE_TEST_DISRUPTIVE=1 SOOMCARE_INTEGRATION=1 go test -count=1 -run 'TestDisruptiveCDCSimulation' ./cdc/",
		EnvSimSeeds, s.Seed, EnvSimProfile, s.Profile)
}

// span is a closed range of durations.
type span [2]time.Duration

func (s span) draw(r *mrand.Rand) time.Duration {
	if s[1] <= s[0] {
		return s[0]
	}
	return (s[0] + time.Duration(r.Int64N(int64(s[1]-s[0])))).Round(100 * time.Millisecond)
}

// simParams shape the schedules of a profile.
type simParams struct {
	Name         string
	Steps        [2]int // steps per schedule, inclusive
	Gap          span   // pause between steps
	MySQLDown    span
	EngineDown   span
	RestartDelay span // after a kill left no worker
	Ops          [2]int
	// MaxEngineDown caps engine outages per schedule (each restart of the
	// engine costs ≈ 40 s on a busy 2-core machine).
	MaxEngineDown int
}

var simProfiles = map[string]simParams{
	"ci": {Name: "ci", Steps: [2]int{7, 10}, Gap: span{300 * time.Millisecond, 2 * time.Second},
		MySQLDown: span{3 * time.Second, 8 * time.Second}, EngineDown: span{5 * time.Second, 12 * time.Second},
		RestartDelay: span{0, 2 * time.Second}, Ops: [2]int{3, 12}, MaxEngineDown: 1},
	"full": {Name: "full", Steps: [2]int{10, 20}, Gap: span{500 * time.Millisecond, 5 * time.Second},
		MySQLDown: span{5 * time.Second, 60 * time.Second}, EngineDown: span{5 * time.Second, 90 * time.Second},
		RestartDelay: span{0, 5 * time.Second}, Ops: [2]int{3, 30}, MaxEngineDown: 2},
}

// simProfile returns the profile named by v ("" is ci).
func simProfile(v string) (simParams, error) {
	if v == "" {
		v = "ci"
	}
	p, ok := simProfiles[v]
	if !ok {
		return simParams{}, fmt.Errorf("%s=%q: want ci or full", EnvSimProfile, v)
	}
	return p, nil
}

// simWeights are the odds of each step kind.
var simWeights = []struct {
	kind   simKind
	weight int
}{
	{simWrite, 24}, {simPoison, 14}, {simFix, 7}, {simKill, 10}, {simRacer, 6}, {simLockLoss, 6},
	{simMySQLDown, 6}, {simEngineDown, 4}, {simReindex, 6}, {simRollback, 5},
}

// generator is the state of one schedule's generation.
type generator struct {
	r        *mrand.Rand
	p        simParams
	poisoned map[simRow]bool
	engine   int
}

// newSchedule generates the schedule of seed under p.
func newSchedule(seed uint64, p simParams) simSchedule {
	g := &generator{r: mrand.New(mrand.NewPCG(seed, seed^0x50_0f_ca_4e)), p: p, poisoned: map[simRow]bool{}}
	s := simSchedule{Seed: seed, Profile: p.Name}
	n := p.Steps[0] + g.r.IntN(p.Steps[1]-p.Steps[0]+1)
	var at time.Duration
	for range n {
		st := g.step()
		st.Gap = p.Gap.draw(g.r)
		at += st.Gap
		st.At = at
		at += st.Dur
		s.Steps = append(s.Steps, st)
	}
	return s
}

// step draws the next step; kinds that do not apply now are drawn again.
func (g *generator) step() simStep {
	total := 0
	for _, w := range simWeights {
		total += w.weight
	}
	for {
		x := g.r.IntN(total)
		var k simKind
		for _, w := range simWeights {
			if x < w.weight {
				k = w.kind
				break
			}
			x -= w.weight
		}
		if st, ok := g.make(k); ok {
			return st
		}
	}
}

func (g *generator) make(k simKind) (simStep, bool) {
	st := simStep{Kind: k}
	switch k {
	case simWrite:
		for range g.p.Ops[0] + g.r.IntN(g.p.Ops[1]-g.p.Ops[0]+1) {
			st.Ops = append(st.Ops, g.op())
		}
	case simPoison:
		st.Poison = g.r.IntN(len(simPoisonKinds))
		row, ok := g.cleanRow(simPoisonKinds[st.Poison].Table)
		if !ok {
			return st, false
		}
		st.Row, g.poisoned[row] = row, true
	case simFix:
		rows := g.poisonedRows()
		if len(rows) == 0 {
			return st, false
		}
		st.Row = rows[g.r.IntN(len(rows))]
		delete(g.poisoned, st.Row)
	case simKill:
		st.Dur = g.p.RestartDelay.draw(g.r)
	case simMySQLDown:
		st.Dur = g.p.MySQLDown.draw(g.r)
	case simEngineDown:
		if g.engine >= g.p.MaxEngineDown {
			return st, false
		}
		g.engine++
		st.Dur = g.p.EngineDown.draw(g.r)
	case simReindex, simRollback:
		st.Index = []string{"posts", "contents", "users"}[g.r.IntN(3)]
	}
	return st, true
}

// cleanRow picks a poisonable row of table that is not poisoned yet.
func (g *generator) cleanRow(table string) (simRow, bool) {
	base, n := uint64(0), simContents
	if table == "posts" {
		base, n = simPostBase, simPosts
	}
	start := g.r.IntN(n)
	for i := range n {
		row := simRow{table, base + 1 + uint64((start+i)%n)}
		if !g.poisoned[row] {
			return row, true
		}
	}
	return simRow{}, false
}

// poisonedRows lists the poisoned rows in a stable order.
func (g *generator) poisonedRows() []simRow {
	var rows []simRow
	for _, t := range []string{"contents", "posts"} {
		base, n := uint64(0), simContents
		if t == "posts" {
			base, n = simPostBase, simPosts
		}
		for i := range n {
			if row := (simRow{t, base + 1 + uint64(i)}); g.poisoned[row] {
				rows = append(rows, row)
			}
		}
	}
	return rows
}

// op draws one app write. Likes, hides and hard deletes stay off the
// poisonable posts (they would change whether a row is poisoned); nickname
// changes of their author fan out to them on purpose.
func (g *generator) op() simOp {
	r := g.r
	post := 1 + r.IntN(simBackgroundTop)
	user := 1 + r.IntN(simUsers)
	content := 1 + r.IntN(simContents)
	tag := r.IntN(1000)
	switch r.IntN(12) {
	case 0:
		return simOp{Name: fmt.Sprintf("insert-post(u%d)", user),
			SQL:  []string{`INSERT INTO posts (user_id, category, title, body) VALUES (?, '자유', ?, '숨이 차요')`},
			Args: [][]any{{user, fmt.Sprintf("시뮬레이션 글 %d", tag)}}}
	case 1:
		return simOp{Name: fmt.Sprintf("update-post(%d)", post),
			SQL:  []string{`UPDATE posts SET title = ?, body = CONCAT(body, '!') WHERE id = ?`},
			Args: [][]any{{fmt.Sprintf("바뀐 제목 %d", tag), post}}}
	case 2:
		return simOp{Name: fmt.Sprintf("soft-delete-toggle(%d)", post),
			SQL:  []string{`UPDATE posts SET deleted_at = IF(deleted_at IS NULL, NOW(6), NULL) WHERE id = ?`},
			Args: [][]any{{post}}}
	case 3:
		return simOp{Name: fmt.Sprintf("hide-toggle(%d)", post),
			SQL:  []string{`UPDATE posts SET status = IF(status = 'visible', 'hidden', 'visible') WHERE id = ?`},
			Args: [][]any{{post}}}
	case 4:
		return simOp{Name: fmt.Sprintf("hard-delete(%d)", post),
			SQL:  []string{`DELETE FROM posts WHERE id = ? AND NOT EXISTS (SELECT 1 FROM comments c WHERE c.post_id = posts.id) AND NOT EXISTS (SELECT 1 FROM post_likes l WHERE l.post_id = posts.id)`},
			Args: [][]any{{post}}}
	case 5:
		return simOp{Name: fmt.Sprintf("nickname(u%d)", user),
			SQL:  []string{`UPDATE users SET nickname = ? WHERE id = ?`},
			Args: [][]any{{fmt.Sprintf("시뮬%d_%d", user, tag), user}}}
	case 6:
		return simOp{Name: fmt.Sprintf("like(%d,u%d)", post, user),
			SQL: []string{`INSERT INTO post_likes (post_id, user_id) VALUES (?, ?)`,
				`UPDATE posts SET like_count = like_count + 1 WHERE id = ?`},
			Args: [][]any{{post, user}, {post}}}
	case 7:
		return simOp{Name: fmt.Sprintf("comment(%d)", post),
			SQL: []string{`INSERT INTO comments (post_id, user_id, body) SELECT id, 2, '힘내세요' FROM posts WHERE id = ?`,
				`UPDATE posts SET comment_count = comment_count + 1 WHERE id = ?`},
			Args: [][]any{{post}, {post}}}
	case 8:
		return simOp{Name: "insert-content",
			SQL: []string{`INSERT INTO contents (author_id, title, body, category, tags, status, published_at)
			  VALUES (22, ?, '흡입기 관리법', '약물', JSON_ARRAY('흡입기', ?), 'published', NOW())`},
			Args: [][]any{{fmt.Sprintf("새 콘텐츠 %d", tag), fmt.Sprint("태그", tag)}}}
	case 9:
		return simOp{Name: fmt.Sprintf("update-content(%d)", content),
			SQL:  []string{`UPDATE contents SET title = ? WHERE id = ?`},
			Args: [][]any{{fmt.Sprintf("고친 콘텐츠 %d", tag), content}}}
	case 10:
		u := 1 + r.IntN(20) // never the poisonable rows' author
		return simOp{Name: fmt.Sprintf("block-toggle(u%d)", u),
			SQL:  []string{`UPDATE users SET status = IF(status = 'active', 'blocked', 'active') WHERE id = ?`},
			Args: [][]any{{u}}}
	default:
		return simOp{Name: fmt.Sprintf("unlike(%d)", post),
			SQL: []string{`UPDATE posts SET like_count = like_count - 1 WHERE id = ? AND EXISTS (SELECT 1 FROM post_likes WHERE post_id = ?)`,
				`DELETE FROM post_likes WHERE post_id = ? ORDER BY id LIMIT 1`},
			Args: [][]any{{post, post}, {post}}}
	}
}

// simSeeds parses EnvSimSeeds ("7", "1,5,9", "1-200", "1,10-20"), or reads
// the seed file when v is empty (one seed per line, # comments).
func simSeeds(v, file string) ([]uint64, error) {
	if strings.TrimSpace(v) == "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("seed list: %w", err)
		}
		var parts []string
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		for sc.Scan() {
			line, _, _ := strings.Cut(sc.Text(), "#")
			if line = strings.TrimSpace(line); line != "" {
				parts = append(parts, line)
			}
		}
		v = strings.Join(parts, ",")
	}
	var seeds []uint64
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(strings.TrimSpace(lo), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a seed or a range a-b", EnvSimSeeds, part)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(strings.TrimSpace(hi), 10, 64); err != nil || b < a {
				return nil, fmt.Errorf("%s: %q is not a range a-b with a ≤ b", EnvSimSeeds, part)
			}
		}
		for s := a; s <= b; s++ {
			seeds = append(seeds, s)
		}
	}
	if len(seeds) == 0 {
		return nil, fmt.Errorf("%s: no seeds", EnvSimSeeds)
	}
	return seeds, nil
}

// A seed replays: the same seed and profile give the same steps, the seeds
// differ, and the CI seeds together play every kind of step and poison.
func TestSimScheduleReplays(t *testing.T) {
	ci := simProfiles["ci"]
	if a, b := newSchedule(7, ci).String(), newSchedule(7, ci).String(); a != b {
		t.Fatalf("seed 7 gave two schedules:\n%s\n%s", a, b)
	}
	if newSchedule(7, ci).String() == newSchedule(8, ci).String() {
		t.Fatal("seeds 7 and 8 gave the same schedule")
	}
	seeds, err := simSeeds("", simSeedFile)
	if err != nil {
		t.Fatal(err)
	}
	kinds, poisons := map[simKind]bool{}, map[int]bool{}
	engine, rollbackAfterReindex, lossWithRacer := 0, false, false
	for _, seed := range seeds {
		reindexed, racer := map[string]bool{}, false
		for _, st := range newSchedule(seed, ci).Steps {
			kinds[st.Kind] = true
			switch st.Kind {
			case simPoison:
				poisons[st.Poison] = true
			case simEngineDown:
				engine++
			case simReindex:
				reindexed[st.Index] = true
			case simRollback:
				rollbackAfterReindex = rollbackAfterReindex || reindexed[st.Index]
			case simRacer:
				racer = true
			case simLockLoss:
				lossWithRacer = lossWithRacer || racer
			}
		}
	}
	if engine != 1 || !rollbackAfterReindex || !lossWithRacer {
		t.Errorf("the CI seeds %v: %d engine outages (want 1: each costs ≈ 40 s and more), a rollback after a reindex of its index: %v, a lock loss with a second worker waiting: %v",
			seeds, engine, rollbackAfterReindex, lossWithRacer)
	}
	for k := simKind(0); int(k) < len(simKindNames); k++ {
		if !kinds[k] {
			t.Errorf("the CI seeds %v never play a %s step", seeds, k)
		}
	}
	for i, k := range simPoisonKinds {
		if !poisons[i] {
			t.Errorf("the CI seeds %v never plant a %s poison row", seeds, k.Name)
		}
	}
}

func TestSimSeeds(t *testing.T) {
	tests := []struct {
		in      string
		want    []uint64
		wantErr bool
	}{
		{in: "7", want: []uint64{7}},
		{in: "1, 5,9", want: []uint64{1, 5, 9}},
		{in: "3-6", want: []uint64{3, 4, 5, 6}},
		{in: "1,10-12", want: []uint64{1, 10, 11, 12}},
		{in: "6-3", wantErr: true},
		{in: "x", wantErr: true},
		{in: "1,", wantErr: true},
	}
	for _, tc := range tests {
		got, err := simSeeds(tc.in, "")
		if (err != nil) != tc.wantErr || !slices.Equal(got, tc.want) {
			t.Errorf("simSeeds(%q) = %v, %v; want %v (error: %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

package dictionary

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/soomcare/soomcare/analyzers"
	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/mysql"
)

// Store is the rules in MySQL: it validates every change (locally, then
// with the engine), runs the transactions and stamps the audit's time;
// ruleSQL has the statements. It is the indexer.RulesSource of index builds.
type Store struct {
	db    *sql.DB
	stmt  ruleSQL
	check Checker // nil: local checks only
	log   *slog.Logger
	now   func() time.Time
}

var _ indexer.RulesSource = (*Store)(nil)

// Options configure a Store.
type Options struct {
	Logger *slog.Logger     // engine refusals, withheld (nil: discard)
	Now    func() time.Time // the audit's clock (nil: time.Now)
}

// NewStore returns the store of db; check (usually an *Engine) validates
// every change with the engine, nil skips that (reads and builds only).
func NewStore(db *sql.DB, check Checker, o Options) *Store {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Store{db: db, check: check, log: o.Logger, now: o.Now}
}

// Rules returns the rules a new index is built with: the dictionary and
// synonyms in MySQL (one consistent read), the embedded stop tags. Rules
// that do not validate fail the build rather than make a broken index.
func (s *Store) Rules(ctx context.Context) (analyzers.Rules, error) {
	var cur ruleSet
	err := mysql.Tx(ctx, s.db, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}, func(tx *sql.Tx) error {
		var err error
		cur, err = s.stmt.Load(ctx, tx, false)
		return err
	})
	r := cur.rules()
	if err != nil {
		return r, err
	}
	if err := cur.validate(); err != nil {
		return r, fmt.Errorf("dictionary: the rules in MySQL do not validate: %w", err)
	}
	return r, nil
}

// row is one stored rule.
type row struct {
	id   uint64
	text string
}

// ruleSet is every stored rule, in id order.
type ruleSet map[Kind][]row

func (rs ruleSet) rules() analyzers.Rules {
	texts := func(rows []row) []string {
		out := make([]string, len(rows))
		for i, r := range rows {
			out[i] = r.text
		}
		return out
	}
	return analyzers.Rules{UserDictionary: texts(rs[Dictionary]), Synonyms: texts(rs[Synonyms]), StopTags: analyzers.StopTags()}
}

// validate runs analyzers.ValidateRules on the set, naming each rule by its
// id, and a rule not saved yet (id 0) as the new one: the ids in a refusal
// are those of this set, read in the same transaction as the change.
func (rs ruleSet) validate() error {
	r := rs.rules()
	name := func(k Kind) func(int) string {
		return func(i int) string {
			if id := rs[k][i].id; id != 0 {
				return fmt.Sprintf("%s %d", k.noun(), id)
			}
			return "the new " + k.noun()
		}
	}
	return analyzers.ValidateRulesNamed(r.UserDictionary, r.Synonyms, r.StopTags,
		analyzers.Names{Entry: name(Dictionary), Rule: name(Synonyms)})
}

// Page is a page of a list; Next is the id to continue after (0: last page).
type Page struct {
	Items []Item
	Next  uint64
}

// List returns up to size rules of kind after id after, in id order.
func (s *Store) List(ctx context.Context, k Kind, after uint64, size int) (Page, error) {
	items, err := s.stmt.List(ctx, s.db, k, after, size+1)
	if err != nil {
		return Page{}, err
	}
	p := Page{Items: items}
	if len(p.Items) > size {
		p.Items = p.Items[:size]
		p.Next = p.Items[size-1].ID
	}
	return p, nil
}

// Get returns one rule of kind; ErrNotFound when there is none.
func (s *Store) Get(ctx context.Context, k Kind, id uint64) (Item, error) {
	return s.stmt.Get(ctx, s.db, k, id)
}

// Add adds a rule after validating the candidate set (see Validate).
func (s *Store) Add(ctx context.Context, k Kind, text string, by Actor) (Item, error) {
	return s.change(ctx, k, ActionAdd, 0, text, by)
}

// Edit replaces rule id's text; ErrNotFound when there is none.
func (s *Store) Edit(ctx context.Context, k Kind, id uint64, text string, by Actor) (Item, error) {
	return s.change(ctx, k, ActionEdit, id, text, by)
}

// Delete removes rule id; ErrNotFound when there is none.
func (s *Store) Delete(ctx context.Context, k Kind, id uint64, by Actor) error {
	_, err := s.change(ctx, k, ActionDelete, id, "", by)
	return err
}

// change runs one add, edit or delete in a transaction that first locks
// every rule (so concurrent changes are validated one after the other),
// validates the candidate set, writes, and records the audit row. It returns
// *RejectedError, *PluginMissingError, ErrNotFound or an internal error.
func (s *Store) change(ctx context.Context, k Kind, action string, id uint64, text string, by Actor) (Item, error) {
	text = Normalize(k, text)
	var out Item
	err := mysql.Tx(ctx, s.db, &sql.TxOptions{Isolation: sql.LevelRepeatableRead}, func(tx *sql.Tx) error {
		cur, err := s.stmt.Load(ctx, tx, true)
		if err != nil {
			return err
		}
		cand, before, err := apply(cur, k, action, id, text)
		if err != nil {
			return err
		}
		if action == ActionEdit && before == text {
			out, err = s.stmt.Get(ctx, tx, k, id)
			return err
		}
		named := text
		if action == ActionDelete {
			named = before
		}
		if err := s.validate(ctx, k, action, named, cand); err != nil {
			return err
		}
		if id, err = s.write(ctx, tx, k, action, id, text, by); err != nil {
			return err
		}
		if err := s.stmt.Audit(ctx, tx, k, action, id, before, text, by, s.now().UTC()); err != nil {
			return err
		}
		if action != ActionDelete {
			out, err = s.stmt.Get(ctx, tx, k, id)
		}
		return err
	})
	return out, err
}

// apply returns the rule set after the change and the changed rule's text
// before it ("" for an add).
func apply(cur ruleSet, k Kind, action string, id uint64, text string) (ruleSet, string, error) {
	cand := ruleSet{Dictionary: cur[Dictionary], Synonyms: cur[Synonyms]}
	if action == ActionAdd {
		cand[k] = append(append([]row(nil), cur[k]...), row{text: text})
		return cand, "", nil
	}
	rows := make([]row, 0, len(cur[k]))
	before, found := "", false
	for _, r := range cur[k] {
		if r.id != id {
			rows = append(rows, r)
			continue
		}
		before, found = r.text, true
		if action == ActionEdit {
			rows = append(rows, row{id: id, text: text})
		}
	}
	if !found {
		return nil, "", ErrNotFound
	}
	cand[k] = rows
	return cand, before, nil
}

// write stores the change and returns the rule's id.
func (s *Store) write(ctx context.Context, q mysql.Querier, k Kind, action string, id uint64, text string, by Actor) (uint64, error) {
	switch action {
	case ActionAdd:
		return s.stmt.Insert(ctx, q, k, text, by)
	case ActionEdit:
		return id, s.stmt.Update(ctx, q, k, id, text, by)
	case ActionDelete:
		return id, s.stmt.Delete(ctx, q, k, id)
	}
	return id, nil
}

// Changes returns the newest audit rows of kind ("" for both) first, up
// to limit.
func (s *Store) Changes(ctx context.Context, k Kind, limit int) ([]Change, error) {
	return s.stmt.Changes(ctx, s.db, k, limit)
}

// Pending is a change not saved: an add (ID 0) or an edit of rule ID.
type Pending struct {
	Kind Kind
	ID   uint64
	Text string
}

// WithPending returns the rules in MySQL with changes applied, not saved,
// checked locally (for `soomcare analyze`; the engine checks them when it
// analyses with them).
func (s *Store) WithPending(ctx context.Context, changes ...Pending) (analyzers.Rules, error) {
	cur, err := s.stmt.Load(ctx, s.db, false)
	if err != nil {
		return analyzers.Rules{}, err
	}
	for _, p := range changes {
		action := ActionAdd
		if p.ID != 0 {
			action = ActionEdit
		}
		if cur, _, err = apply(cur, p.Kind, action, p.ID, Normalize(p.Kind, p.Text)); err != nil {
			return analyzers.Rules{}, fmt.Errorf("%s %d: %w", p.Kind, p.ID, err)
		}
	}
	r := cur.rules()
	for _, p := range changes {
		if err := localCheck(p.Kind, ActionAdd, Normalize(p.Kind, p.Text), cur); err != nil {
			return r, err
		}
	}
	return r, nil
}

// Current returns the rules in MySQL without validating them.
func (s *Store) Current(ctx context.Context) (analyzers.Rules, error) {
	cur, err := s.stmt.Load(ctx, s.db, false)
	return cur.rules(), err
}

// validate checks the candidate rules locally, then with the engine.
func (s *Store) validate(ctx context.Context, k Kind, action, text string, cand ruleSet) error {
	if err := localCheck(k, action, text, cand); err != nil {
		return err
	}
	if s.check == nil {
		return nil
	}
	err := s.check.Check(ctx, cand.rules())
	var refusal *EngineRefusal
	if !errors.As(err, &refusal) {
		return err
	}
	// The engine's words name the entry: the editor gets this package's
	// own message; the log gets the engine's type and its reason with the
	// entry's words withheld.
	s.log.WarnContext(ctx, "engine refused analysis rules", "kind", string(k), "action", action,
		"engine.error.type", refusal.Type, "engine.error.reason", withhold(refusal.Reason, text))
	return &RejectedError{Kind: k, Text: text, Action: action, ByEngine: true, Problems: []string{engineProblem(k, refusal)}}
}

// localCheck runs analyzers.ValidateRules on the candidate set.
func localCheck(k Kind, action, text string, cand ruleSet) error {
	err := cand.validate()
	if err == nil {
		return nil
	}
	rej := &RejectedError{Kind: k, Text: text, Action: action}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		rej.Problems = append(rej.Problems, localProblem(e))
	}
	return rej
}

// localProblem is one ValidateRules problem for an editor: its kind in
// Korean, then the check's own detail (which names the word).
func localProblem(err error) string {
	kind := "형식이 올바르지 않습니다"
	switch {
	case errors.Is(err, analyzers.ErrDuplicate):
		kind = "이미 있는 항목과 겹칩니다"
	case errors.Is(err, analyzers.ErrNotInDictionary):
		kind = "동의어의 한국어 단어는 사용자 사전에 있어야 합니다"
	case errors.Is(err, analyzers.ErrStopTag):
		kind = "품사 태그가 올바르지 않습니다"
	}
	return kind + " (" + err.Error() + ")."
}

// engineProblem classifies the engine's refusal without quoting it.
func engineProblem(k Kind, r *EngineRefusal) string {
	reason := strings.ToLower(r.Reason)
	switch {
	case strings.Contains(reason, "segmentation"):
		return "분절(띄어 쓴 부분)이 표면형과 맞지 않습니다."
	case strings.Contains(reason, "duplicate"):
		return "사전에 같은 단어가 이미 있습니다."
	case strings.Contains(reason, "synonym") || k == Synonyms:
		return "동의어 규칙을 만들 수 없습니다(분석하면 남는 낱말이 없는 용어 등)."
	default:
		return "사용자 사전을 만들 수 없습니다."
	}
}

// withhold replaces the words of text in s.
func withhold(s, text string) string {
	words := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' })
	for _, w := range append([]string{text}, words...) {
		if w != "" {
			s = strings.ReplaceAll(s, w, "[withheld]")
		}
	}
	return s
}

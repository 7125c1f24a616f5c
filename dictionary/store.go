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

// Store is the rules in MySQL. It is the indexer.RulesSource of index builds.
type Store struct {
	db    *sql.DB
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

// table and column of each kind.
func table(k Kind) (name, column string) {
	if k == Synonyms {
		return "analysis_synonym_rules", "rule"
	}
	return "analysis_dictionary_entries", "entry"
}

// Rules returns the rules a new index is built with: the dictionary and
// synonyms in MySQL (one consistent read), the embedded stop tags. Rules
// that do not validate fail the build rather than make a broken index.
func (s *Store) Rules(ctx context.Context) (analyzers.Rules, error) {
	var cur ruleSet
	err := mysql.Tx(ctx, s.db, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}, func(tx *sql.Tx) error {
		var err error
		cur, err = load(ctx, tx, "")
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

// load reads both tables in id order; lock is "" or " FOR UPDATE".
func load(ctx context.Context, q mysql.Querier, lock string) (ruleSet, error) {
	rs := ruleSet{}
	for _, k := range []Kind{Dictionary, Synonyms} {
		tbl, col := table(k)
		rows, err := q.QueryContext(ctx, "SELECT id, "+col+" FROM "+tbl+" ORDER BY id"+lock)
		if err != nil {
			return nil, fmt.Errorf("dictionary: load %s: %w", k, err)
		}
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.text); err != nil {
				rows.Close()
				return nil, fmt.Errorf("dictionary: load %s: %w", k, err)
			}
			rs[k] = append(rs[k], r)
		}
		err = errors.Join(rows.Err(), rows.Close())
		if err != nil {
			return nil, fmt.Errorf("dictionary: load %s: %w", k, err)
		}
	}
	return rs, nil
}

// Page is a page of a list; Next is the id to continue after (0: last page).
type Page struct {
	Items []Item
	Next  uint64
}

// List returns up to size rules of kind after id after, in id order.
func (s *Store) List(ctx context.Context, k Kind, after uint64, size int) (Page, error) {
	tbl, col := table(k)
	rows, err := s.db.QueryContext(ctx, "SELECT id, "+col+", created_by, updated_by, created_at, updated_at FROM "+tbl+
		" WHERE id > ? ORDER BY id LIMIT ?", after, size+1)
	if err != nil {
		return Page{}, fmt.Errorf("dictionary: list %s: %w", k, err)
	}
	defer rows.Close()
	p := Page{Items: []Item{}}
	for rows.Next() {
		var it Item
		if err := rows.Scan(&it.ID, &it.Text, &it.CreatedBy, &it.UpdatedBy, &it.CreatedAt, &it.UpdatedAt); err != nil {
			return Page{}, fmt.Errorf("dictionary: list %s: %w", k, err)
		}
		p.Items = append(p.Items, it)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("dictionary: list %s: %w", k, err)
	}
	if len(p.Items) > size {
		p.Items = p.Items[:size]
		p.Next = p.Items[size-1].ID
	}
	return p, nil
}

// Get returns one rule of kind; ErrNotFound when there is none.
func (s *Store) Get(ctx context.Context, k Kind, id uint64) (Item, error) {
	return get(ctx, s.db, k, id)
}

func get(ctx context.Context, q mysql.Querier, k Kind, id uint64) (Item, error) {
	tbl, col := table(k)
	var it Item
	err := q.QueryRowContext(ctx, "SELECT id, "+col+", created_by, updated_by, created_at, updated_at FROM "+tbl+" WHERE id = ?", id).
		Scan(&it.ID, &it.Text, &it.CreatedBy, &it.UpdatedBy, &it.CreatedAt, &it.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return it, ErrNotFound
	}
	if err != nil {
		return it, fmt.Errorf("dictionary: get %s: %w", k, err)
	}
	return it, nil
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
		cur, err := load(ctx, tx, " FOR UPDATE")
		if err != nil {
			return err
		}
		cand, before, err := apply(cur, k, action, id, text)
		if err != nil {
			return err
		}
		if action == ActionEdit && before == text {
			out, err = get(ctx, tx, k, id)
			return err
		}
		named := text
		if action == ActionDelete {
			named = before
		}
		if err := s.validate(ctx, k, action, named, cand); err != nil {
			return err
		}
		if id, err = write(ctx, tx, k, action, id, text, by); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, k, action, id, before, text, by); err != nil {
			return err
		}
		if action != ActionDelete {
			out, err = get(ctx, tx, k, id)
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
func write(ctx context.Context, tx *sql.Tx, k Kind, action string, id uint64, text string, by Actor) (uint64, error) {
	tbl, col := table(k)
	var err error
	switch action {
	case ActionAdd:
		var res sql.Result
		if k == Dictionary {
			res, err = tx.ExecContext(ctx, "INSERT INTO "+tbl+" (entry, surface, created_by, updated_by) VALUES (?, ?, ?, ?)", text, Surface(text), by.String(), by.String())
		} else {
			res, err = tx.ExecContext(ctx, "INSERT INTO "+tbl+" (rule, created_by, updated_by) VALUES (?, ?, ?)", text, by.String(), by.String())
		}
		if err == nil {
			var last int64
			last, err = res.LastInsertId()
			id = uint64(last)
		}
	case ActionEdit:
		if k == Dictionary {
			_, err = tx.ExecContext(ctx, "UPDATE "+tbl+" SET entry = ?, surface = ?, updated_by = ? WHERE id = ?", text, Surface(text), by.String(), id)
		} else {
			_, err = tx.ExecContext(ctx, "UPDATE "+tbl+" SET "+col+" = ?, updated_by = ? WHERE id = ?", text, by.String(), id)
		}
	case ActionDelete:
		_, err = tx.ExecContext(ctx, "DELETE FROM "+tbl+" WHERE id = ?", id)
	}
	if err != nil {
		return 0, fmt.Errorf("dictionary: %s %s: %w", action, k, err)
	}
	return id, nil
}

// audit records the change.
func (s *Store) audit(ctx context.Context, tx *sql.Tx, k Kind, action string, id uint64, before, after string, by Actor) error {
	var b, a, uid any
	if action != ActionAdd {
		b = before
	}
	if action != ActionDelete {
		a = after
	}
	if by.UserID != 0 {
		uid = by.UserID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO analysis_rule_changes (kind, item_id, action, before_text, after_text, actor, actor_user_id, changed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, string(k), id, action, b, a, by.String(), uid, s.now().UTC())
	if err != nil {
		return fmt.Errorf("dictionary: audit: %w", err)
	}
	return nil
}

// Changes returns the newest audit rows of kind ("" for both) first, up
// to limit.
func (s *Store) Changes(ctx context.Context, k Kind, limit int) ([]Change, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, item_id, action, before_text, after_text, actor, actor_user_id, changed_at
		FROM analysis_rule_changes WHERE ? = '' OR kind = ? ORDER BY id DESC LIMIT ?`, string(k), string(k), limit)
	if err != nil {
		return nil, fmt.Errorf("dictionary: changes: %w", err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var before, after sql.NullString
		var uid sql.NullInt64
		if err := rows.Scan(&c.ID, &c.Kind, &c.ItemID, &c.Action, &before, &after, &c.Actor, &uid, &c.At); err != nil {
			return nil, fmt.Errorf("dictionary: changes: %w", err)
		}
		if before.Valid {
			c.Before = &before.String
		}
		if after.Valid {
			c.After = &after.String
		}
		if uid.Valid {
			u := uint64(uid.Int64)
			c.ActorUserID = &u
		}
		out = append(out, c)
	}
	return out, rows.Err()
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
	cur, err := load(ctx, s.db, "")
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
	cur, err := load(ctx, s.db, "")
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

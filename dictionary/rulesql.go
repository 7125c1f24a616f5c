package dictionary

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/soomcare/soomcare/mysql"
)

// ruleSQL is the SQL of the rules (analysis_dictionary_entries,
// analysis_synonym_rules) and of their audit (analysis_rule_changes).
// Every method takes the querier it runs on (the pool, or the transaction
// of Store.Rules or Store.change); Store is what callers use.
type ruleSQL struct{}

// table and column of each kind.
func table(k Kind) (name, column string) {
	if k == Synonyms {
		return "analysis_synonym_rules", "rule"
	}
	return "analysis_dictionary_entries", "entry"
}

// Load reads both tables in id order; forUpdate locks every rule.
func (ruleSQL) Load(ctx context.Context, q mysql.Querier, forUpdate bool) (ruleSet, error) {
	lock := ""
	if forUpdate {
		lock = " FOR UPDATE"
	}
	scan := func(r mysql.Scanner) (row, error) {
		var rw row
		err := r.Scan(&rw.id, &rw.text)
		return rw, err
	}
	rs := ruleSet{}
	for _, k := range []Kind{Dictionary, Synonyms} {
		tbl, col := table(k)
		rows, err := mysql.QueryAll(ctx, q, scan, "SELECT id, "+col+" FROM "+tbl+" ORDER BY id"+lock)
		if err != nil {
			return nil, fmt.Errorf("dictionary: load %s: %w", k, err)
		}
		rs[k] = rows
	}
	return rs, nil
}

// itemColumns are the columns of an Item of a kind whose text is column
// col, in scanItem's order.
func itemColumns(col string) string {
	return "id, " + col + ", created_by, updated_by, created_at, updated_at"
}

func scanItem(r mysql.Scanner) (Item, error) {
	var it Item
	err := r.Scan(&it.ID, &it.Text, &it.CreatedBy, &it.UpdatedBy, &it.CreatedAt, &it.UpdatedAt)
	return it, err
}

// List returns up to limit rules of kind after id after, in id order.
func (ruleSQL) List(ctx context.Context, q mysql.Querier, k Kind, after uint64, limit int) ([]Item, error) {
	tbl, col := table(k)
	items, err := mysql.QueryAll(ctx, q, scanItem, "SELECT "+itemColumns(col)+" FROM "+tbl+" WHERE id > ? ORDER BY id LIMIT ?", after, limit)
	if err != nil {
		return nil, fmt.Errorf("dictionary: list %s: %w", k, err)
	}
	return items, nil
}

// Get returns one rule of kind; ErrNotFound when there is none.
func (ruleSQL) Get(ctx context.Context, q mysql.Querier, k Kind, id uint64) (Item, error) {
	tbl, col := table(k)
	it, err := scanItem(q.QueryRowContext(ctx, "SELECT "+itemColumns(col)+" FROM "+tbl+" WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return it, ErrNotFound
	}
	if err != nil {
		return it, fmt.Errorf("dictionary: get %s: %w", k, err)
	}
	return it, nil
}

// Insert adds a rule of kind and returns its id (a dictionary entry is
// stored with its Surface).
func (ruleSQL) Insert(ctx context.Context, q mysql.Querier, k Kind, text string, by Actor) (uint64, error) {
	tbl, _ := table(k)
	var res sql.Result
	var err error
	if k == Dictionary {
		res, err = q.ExecContext(ctx, "INSERT INTO "+tbl+" (entry, surface, created_by, updated_by) VALUES (?, ?, ?, ?)", text, Surface(text), by.String(), by.String())
	} else {
		res, err = q.ExecContext(ctx, "INSERT INTO "+tbl+" (rule, created_by, updated_by) VALUES (?, ?, ?)", text, by.String(), by.String())
	}
	var id int64
	if err == nil {
		id, err = res.LastInsertId()
	}
	if err != nil {
		return 0, fmt.Errorf("dictionary: %s %s: %w", ActionAdd, k, err)
	}
	return uint64(id), nil
}

// Update replaces rule id's text (and a dictionary entry's Surface).
func (ruleSQL) Update(ctx context.Context, q mysql.Querier, k Kind, id uint64, text string, by Actor) error {
	tbl, col := table(k)
	var err error
	if k == Dictionary {
		_, err = q.ExecContext(ctx, "UPDATE "+tbl+" SET entry = ?, surface = ?, updated_by = ? WHERE id = ?", text, Surface(text), by.String(), id)
	} else {
		_, err = q.ExecContext(ctx, "UPDATE "+tbl+" SET "+col+" = ?, updated_by = ? WHERE id = ?", text, by.String(), id)
	}
	if err != nil {
		return fmt.Errorf("dictionary: %s %s: %w", ActionEdit, k, err)
	}
	return nil
}

// Delete removes rule id.
func (ruleSQL) Delete(ctx context.Context, q mysql.Querier, k Kind, id uint64) error {
	tbl, _ := table(k)
	if _, err := q.ExecContext(ctx, "DELETE FROM "+tbl+" WHERE id = ?", id); err != nil {
		return fmt.Errorf("dictionary: %s %s: %w", ActionDelete, k, err)
	}
	return nil
}

// Audit records by's action on rule id of kind at at: the text before it
// (NULL for an add) and after it (NULL for a delete).
func (ruleSQL) Audit(ctx context.Context, q mysql.Querier, k Kind, action string, id uint64, before, after string, by Actor, at time.Time) error {
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
	_, err := q.ExecContext(ctx, `INSERT INTO analysis_rule_changes (kind, item_id, action, before_text, after_text, actor, actor_user_id, changed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, string(k), id, action, b, a, by.String(), uid, at)
	if err != nil {
		return fmt.Errorf("dictionary: audit: %w", err)
	}
	return nil
}

func scanChange(r mysql.Scanner) (Change, error) {
	var c Change
	var before, after sql.NullString
	var uid sql.NullInt64
	if err := r.Scan(&c.ID, &c.Kind, &c.ItemID, &c.Action, &before, &after, &c.Actor, &uid, &c.At); err != nil {
		return Change{}, err
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
	return c, nil
}

// Changes returns the newest audit rows of kind ("" for both) first, up
// to limit.
func (ruleSQL) Changes(ctx context.Context, q mysql.Querier, k Kind, limit int) ([]Change, error) {
	out, err := mysql.QueryAll(ctx, q, scanChange, `SELECT id, kind, item_id, action, before_text, after_text, actor, actor_user_id, changed_at
		FROM analysis_rule_changes WHERE ? = '' OR kind = ? ORDER BY id DESC LIMIT ?`, string(k), string(k), limit)
	if err != nil {
		return nil, fmt.Errorf("dictionary: changes: %w", err)
	}
	return out, nil
}

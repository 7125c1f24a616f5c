package insights

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/soomcare/soomcare/dictionary"
	"github.com/soomcare/soomcare/mysql"
)

// blockSQL is the SQL of the editors' blocks (search_suggestion_blocks,
// audited in search_suggestion_changes, migration 00047). Every method
// takes the querier it runs on (the pool, or the transaction of
// BlockStore.Add or BlockStore.Delete); BlockStore is what callers use.
type blockSQL struct{}

// blockColumns are the columns of a Block, in scanBlock's order.
const blockColumns = "id, text, match_kind, created_by, created_at"

func scanBlock(r mysql.Scanner) (Block, error) {
	var b Block
	err := r.Scan(&b.ID, &b.Text, &b.Match, &b.CreatedBy, &b.CreatedAt)
	return b, err
}

// List returns every block, oldest first.
func (blockSQL) List(ctx context.Context, q mysql.Querier) ([]Block, error) {
	out, err := mysql.QueryAll(ctx, q, scanBlock, `SELECT `+blockColumns+` FROM search_suggestion_blocks ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("insights: blocks: %w", err)
	}
	return out, nil
}

// Version is the newest audit row's id (0 when there is none).
func (blockSQL) Version(ctx context.Context, q mysql.Querier) (uint64, error) {
	var v uint64
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM search_suggestion_changes`).Scan(&v); err != nil {
		return 0, fmt.Errorf("insights: blocks version: %w", err)
	}
	return v, nil
}

// Find returns the block of text and match; ErrBlockNotFound when there
// is none.
func (blockSQL) Find(ctx context.Context, q mysql.Querier, text, match string) (Block, error) {
	return oneBlock(ctx, q, "insights: find block", "text = ? AND match_kind = ?", text, match)
}

// oneBlock reads the block that where selects; ErrBlockNotFound when there
// is none, other errors wrapped in what.
func oneBlock(ctx context.Context, q mysql.Querier, what, where string, args ...any) (Block, error) {
	b, err := scanBlock(q.QueryRowContext(ctx, `SELECT `+blockColumns+` FROM search_suggestion_blocks WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Block{}, ErrBlockNotFound
	}
	if err != nil {
		return Block{}, fmt.Errorf("%s: %w", what, err)
	}
	return b, nil
}

// LockExisting locks the block of text and match and returns it (with the
// text and match given); ErrBlockNotFound when there is none.
func (blockSQL) LockExisting(ctx context.Context, q mysql.Querier, text, match string) (Block, error) {
	b := Block{Text: text, Match: match}
	err := q.QueryRowContext(ctx, `SELECT id, created_by, created_at FROM search_suggestion_blocks WHERE text = ? AND match_kind = ? FOR UPDATE`,
		text, match).Scan(&b.ID, &b.CreatedBy, &b.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Block{}, ErrBlockNotFound
	}
	if err != nil {
		return Block{}, fmt.Errorf("lock: %w", err)
	}
	return b, nil
}

// Lock locks block id and returns it; ErrBlockNotFound when there is none.
func (blockSQL) Lock(ctx context.Context, q mysql.Querier, id uint64) (Block, error) {
	return oneBlock(ctx, q, "lock", "id = ? FOR UPDATE", id)
}

// Insert writes b (its ID is ignored) and returns its id.
func (blockSQL) Insert(ctx context.Context, q mysql.Querier, b Block) (uint64, error) {
	res, err := q.ExecContext(ctx, `INSERT INTO search_suggestion_blocks (text, match_kind, created_by, created_at) VALUES (?, ?, ?, ?)`,
		b.Text, b.Match, b.CreatedBy, b.CreatedAt)
	if err != nil {
		return 0, fmt.Errorf("insert: %w", err)
	}
	id, err := res.LastInsertId()
	return uint64(id), err
}

// Delete deletes block id.
func (blockSQL) Delete(ctx context.Context, q mysql.Querier, id uint64) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM search_suggestion_blocks WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	return nil
}

// Audit records that by did action to b at at.
func (blockSQL) Audit(ctx context.Context, q mysql.Querier, action string, b Block, by dictionary.Actor, at time.Time) error {
	var uid any
	if by.UserID != 0 {
		uid = by.UserID
	}
	_, err := q.ExecContext(ctx, `INSERT INTO search_suggestion_changes (block_id, action, text, match_kind, actor, actor_user_id, changed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, b.ID, action, b.Text, b.Match, by.String(), uid, at)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

func scanChange(r mysql.Scanner) (BlockChange, error) {
	var c BlockChange
	var uid sql.NullInt64
	if err := r.Scan(&c.ID, &c.BlockID, &c.Action, &c.Text, &c.Match, &c.Actor, &uid, &c.At); err != nil {
		return BlockChange{}, err
	}
	if uid.Valid {
		u := uint64(uid.Int64)
		c.ActorUserID = &u
	}
	return c, nil
}

// Changes returns the newest audit rows first, at most limit.
func (blockSQL) Changes(ctx context.Context, q mysql.Querier, limit int) ([]BlockChange, error) {
	out, err := mysql.QueryAll(ctx, q, scanChange, `SELECT id, block_id, action, text, match_kind, actor, actor_user_id, changed_at
		FROM search_suggestion_changes ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("insights: block changes: %w", err)
	}
	return out, nil
}

package insights

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/soomcare/soomcare/dictionary"
	"github.com/soomcare/soomcare/mysql"
)

// How a Block matches a popular query.
const (
	MatchExact    = "exact"    // `remove`: this query (in SuggestForm) is never suggested
	MatchContains = "contains" // `block`: no query holding this text is suggested
)

// Actions of the blocks' audit (search_suggestion_changes.action).
const (
	ActionRemove  = "remove"
	ActionBlock   = "block"
	ActionUnblock = "unblock"
)

// MaxBlockLen is the longest block text, in characters (the longest query).
const MaxBlockLen = 200

// Block is an editor's removal of a suggestion or block of a text.
type Block struct {
	ID        uint64    `json:"id"`
	Text      string    `json:"text"`
	Match     string    `json:"match"` // exact | contains
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// BlockChange is one audit row: who removed, blocked or unblocked what, when.
type BlockChange struct {
	ID          uint64    `json:"id"`
	BlockID     uint64    `json:"block_id"`
	Action      string    `json:"action"`
	Text        string    `json:"text"`
	Match       string    `json:"match"`
	Actor       string    `json:"actor"`
	ActorUserID *uint64   `json:"actor_user_id"`
	At          time.Time `json:"at"`
}

// Errors of BlockStore.
var (
	ErrBlockNotFound = errors.New("insights: no such suggestion block")
	ErrBlockText     = errors.New("insights: block text must be 1 to 200 characters that stand for a word")
)

// BlockStore keeps the editors' blocks in MySQL (search_suggestion_blocks,
// audited in search_suggestion_changes, migration 00047).
type BlockStore struct {
	db  *sql.DB
	now func() time.Time
}

// NewBlockStore returns the store of db; now is the audit's clock (nil:
// time.Now).
func NewBlockStore(db *sql.DB, now func() time.Time) *BlockStore {
	if now == nil {
		now = time.Now
	}
	return &BlockStore{db: db, now: now}
}

// BlockText is the stored form of an editor's text: SuggestForm, so that
// removing `cjstlr` removes 천식, the way it was suggested.
func BlockText(text string) (string, error) {
	form, ok := SuggestForm(text)
	if !ok || utf8.RuneCountInString(form) > MaxBlockLen {
		return "", ErrBlockText
	}
	return form, nil
}

// List returns every block, oldest first.
func (s *BlockStore) List(ctx context.Context) ([]Block, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, text, match_kind, created_by, created_at FROM search_suggestion_blocks ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("insights: blocks: %w", err)
	}
	defer rows.Close()
	var out []Block
	for rows.Next() {
		var b Block
		if err := rows.Scan(&b.ID, &b.Text, &b.Match, &b.CreatedBy, &b.CreatedAt); err != nil {
			return nil, fmt.Errorf("insights: blocks: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// Version changes whenever a block is added or deleted (the newest audit
// row's id): serve polls it to reload the blocks quickly and cheaply.
func (s *BlockStore) Version(ctx context.Context) (uint64, error) {
	var v uint64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM search_suggestion_changes`).Scan(&v); err != nil {
		return 0, fmt.Errorf("insights: blocks version: %w", err)
	}
	return v, nil
}

// Add removes a suggestion (MatchExact) or blocks a text (MatchContains),
// audited. Adding what is there already returns the existing block
// (created false) and records nothing.
func (s *BlockStore) Add(ctx context.Context, text, match string, by dictionary.Actor) (b Block, created bool, err error) {
	if b.Text, err = BlockText(text); err != nil {
		return Block{}, false, err
	}
	b.Match, b.CreatedBy, b.CreatedAt = match, by.String(), s.now().UTC().Truncate(time.Microsecond)
	err = mysql.Tx(ctx, s.db, nil, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id, created_by, created_at FROM search_suggestion_blocks WHERE text = ? AND match_kind = ? FOR UPDATE`,
			b.Text, b.Match).Scan(&b.ID, &b.CreatedBy, &b.CreatedAt)
		if err == nil || !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO search_suggestion_blocks (text, match_kind, created_by, created_at) VALUES (?, ?, ?, ?)`,
			b.Text, b.Match, b.CreatedBy, b.CreatedAt)
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		b.ID, created = uint64(id), true
		if err != nil {
			return err
		}
		action := ActionBlock
		if match == MatchExact {
			action = ActionRemove
		}
		return s.audit(ctx, tx, action, b, by)
	})
	if err != nil {
		return Block{}, false, fmt.Errorf("insights: add block: %w", err)
	}
	return b, created, nil
}

// Delete unblocks block id, audited; ErrBlockNotFound when there is none.
func (s *BlockStore) Delete(ctx context.Context, id uint64, by dictionary.Actor) (Block, error) {
	var b Block
	err := mysql.Tx(ctx, s.db, nil, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id, text, match_kind, created_by, created_at FROM search_suggestion_blocks WHERE id = ? FOR UPDATE`, id).
			Scan(&b.ID, &b.Text, &b.Match, &b.CreatedBy, &b.CreatedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrBlockNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM search_suggestion_blocks WHERE id = ?`, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, ActionUnblock, b, by)
	})
	if errors.Is(err, ErrBlockNotFound) {
		return Block{}, err
	}
	if err != nil {
		return Block{}, fmt.Errorf("insights: delete block: %w", err)
	}
	return b, nil
}

// Find returns the block of text (in BlockText form) and match, or
// ErrBlockNotFound.
func (s *BlockStore) Find(ctx context.Context, text, match string) (Block, error) {
	var b Block
	err := s.db.QueryRowContext(ctx, `SELECT id, text, match_kind, created_by, created_at FROM search_suggestion_blocks WHERE text = ? AND match_kind = ?`,
		text, match).Scan(&b.ID, &b.Text, &b.Match, &b.CreatedBy, &b.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Block{}, ErrBlockNotFound
	}
	if err != nil {
		return Block{}, fmt.Errorf("insights: find block: %w", err)
	}
	return b, nil
}

func (s *BlockStore) audit(ctx context.Context, tx *sql.Tx, action string, b Block, by dictionary.Actor) error {
	var uid any
	if by.UserID != 0 {
		uid = by.UserID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO search_suggestion_changes (block_id, action, text, match_kind, actor, actor_user_id, changed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, b.ID, action, b.Text, b.Match, by.String(), uid, s.now().UTC())
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// Changes returns the newest audit rows first, at most limit.
func (s *BlockStore) Changes(ctx context.Context, limit int) ([]BlockChange, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, block_id, action, text, match_kind, actor, actor_user_id, changed_at
		FROM search_suggestion_changes ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("insights: block changes: %w", err)
	}
	defer rows.Close()
	var out []BlockChange
	for rows.Next() {
		var c BlockChange
		var uid sql.NullInt64
		if err := rows.Scan(&c.ID, &c.BlockID, &c.Action, &c.Text, &c.Match, &c.Actor, &uid, &c.At); err != nil {
			return nil, fmt.Errorf("insights: block changes: %w", err)
		}
		if uid.Valid {
			u := uint64(uid.Int64)
			c.ActorUserID = &u
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

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

// BlockStore keeps the editors' blocks in MySQL: it checks the text,
// runs the transactions and stamps the audit's time; blockSQL has the
// statements.
type BlockStore struct {
	db   *sql.DB
	stmt blockSQL
	now  func() time.Time
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
	return s.stmt.List(ctx, s.db)
}

// Version changes whenever a block is added or deleted (the newest audit
// row's id): serve polls it to reload the blocks quickly and cheaply.
func (s *BlockStore) Version(ctx context.Context) (uint64, error) {
	return s.stmt.Version(ctx, s.db)
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
		old, err := s.stmt.LockExisting(ctx, tx, b.Text, b.Match)
		if !errors.Is(err, ErrBlockNotFound) { // there already, or failed
			b = old
			return err
		}
		if b.ID, err = s.stmt.Insert(ctx, tx, b); err != nil {
			return err
		}
		created = true
		action := ActionBlock
		if match == MatchExact {
			action = ActionRemove
		}
		return s.stmt.Audit(ctx, tx, action, b, by, s.now().UTC())
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
		var err error
		if b, err = s.stmt.Lock(ctx, tx, id); err != nil {
			return err
		}
		if err := s.stmt.Delete(ctx, tx, id); err != nil {
			return err
		}
		return s.stmt.Audit(ctx, tx, ActionUnblock, b, by, s.now().UTC())
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
	return s.stmt.Find(ctx, s.db, text, match)
}

// Changes returns the newest audit rows first, at most limit.
func (s *BlockStore) Changes(ctx context.Context, limit int) ([]BlockChange, error) {
	return s.stmt.Changes(ctx, s.db, limit)
}

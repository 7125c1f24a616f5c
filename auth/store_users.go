package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/soomcare/soomcare/mysql"
)

// storedUser is a users row as the sign-ins read it.
type storedUser struct {
	User
	Deleted      bool           // users.deleted_at is set
	PasswordHash sql.NullString // read by UserByEmail only
}

func scanStoredUser(row mysql.Scanner, extra ...any) (storedUser, error) {
	var u storedUser
	var email sql.NullString
	err := row.Scan(append([]any{&u.ID, &email, &u.Nickname, &u.Role, &u.Status, &u.Deleted}, extra...)...)
	u.Email = email.String
	return u, err
}

// rowFound turns a single-row read's sql.ErrNoRows into found false; other
// errors are wrapped with what.
func rowFound(err error, what string) (bool, error) {
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("auth: %s: %w", what, err)
	}
	return true, nil
}

// Profile returns a live user's profile; ErrUserGone when the user is
// deleted or unknown.
func (store) Profile(ctx context.Context, q mysql.Querier, id uint64) (User, error) {
	var u User
	var email sql.NullString
	err := q.QueryRowContext(ctx, `SELECT id, email, nickname, role, status FROM users WHERE id = ? AND deleted_at IS NULL AND status <> 'deleted'`, id).
		Scan(&u.ID, &email, &u.Nickname, &u.Role, &u.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrUserGone
	}
	if err != nil {
		return User{}, fmt.Errorf("auth: read user: %w", err)
	}
	u.Email = email.String
	return u, nil
}

// AccountState reads a user's role, status and deletion (only those
// fields are set); ok false when there is no such row.
func (store) AccountState(ctx context.Context, q mysql.Querier, id uint64) (u storedUser, ok bool, err error) {
	err = q.QueryRowContext(ctx, `SELECT role, status, deleted_at IS NOT NULL FROM users WHERE id = ?`, id).Scan(&u.Role, &u.Status, &u.Deleted)
	ok, err = rowFound(err, "account check")
	return u, ok, err
}

// UserByID reads a user, deleted or not; ok false when there is no such row.
func (store) UserByID(ctx context.Context, q mysql.Querier, id uint64) (storedUser, bool, error) {
	u, err := scanStoredUser(q.QueryRowContext(ctx, `SELECT id, email, nickname, role, status, deleted_at IS NOT NULL FROM users WHERE id = ?`, id))
	ok, err := rowFound(err, "read user")
	return u, ok, err
}

// UserByEmail reads the user with e-mail address email (canonical) and
// the password hash; ok false when there is none.
func (store) UserByEmail(ctx context.Context, q mysql.Querier, email string) (storedUser, bool, error) {
	var hash sql.NullString
	u, err := scanStoredUser(q.QueryRowContext(ctx, `SELECT id, email, nickname, role, status, deleted_at IS NOT NULL, password_hash FROM users WHERE email = ?`, email),
		&hash)
	u.PasswordHash = hash
	ok, err := rowFound(err, "load user")
	return u, ok, err
}

// UserByIdentity locks the link of an SNS identity and reads its user; ok
// false when the identity is not linked (the locking read then holds a gap
// lock where its row would go).
func (store) UserByIdentity(ctx context.Context, q mysql.Querier, id Identity) (storedUser, bool, error) {
	u, err := scanStoredUser(q.QueryRowContext(ctx, `SELECT u.id, u.email, u.nickname, u.role, u.status, u.deleted_at IS NOT NULL FROM user_identities i JOIN users u ON u.id = i.user_id
		WHERE i.provider = ? AND i.subject = ? FOR UPDATE`, id.Provider, id.Subject))
	ok, err := rowFound(err, "user by identity")
	return u, ok, err
}

// InsertPasswordUser writes an active user who signs in with e-mail and
// password hash and returns the id. Errors: ErrEmailTaken,
// ErrNicknameTaken (NicknameKey decides).
func (store) InsertPasswordUser(ctx context.Context, q mysql.Querier, email, hash, nickname string, at time.Time) (uint64, error) {
	res, err := q.ExecContext(ctx, `INSERT INTO users (email, password_hash, nickname, nickname_key, role, status, last_login_at) VALUES (?, ?, ?, ?, 'user', 'active', ?)`,
		email, hash, nickname, NicknameKey(nickname), at)
	if err != nil {
		return 0, uniqueErr(fmt.Errorf("auth: insert user: %w", err))
	}
	id, _ := res.LastInsertId()
	return uint64(id), nil
}

// InsertSNSUser writes an active user without e-mail or password (an SNS
// sign-up) and returns the id. Errors: ErrNicknameTaken.
func (store) InsertSNSUser(ctx context.Context, q mysql.Querier, nickname string, at time.Time) (uint64, error) {
	res, err := q.ExecContext(ctx, `INSERT INTO users (nickname, nickname_key, role, status, last_login_at) VALUES (?, ?, 'user', 'active', ?)`,
		nickname, NicknameKey(nickname), at)
	if err != nil {
		return 0, uniqueErr(fmt.Errorf("auth: insert user: %w", err))
	}
	id, _ := res.LastInsertId()
	return uint64(id), nil
}

// TouchLogin records a sign-in of the user at at.
func (store) TouchLogin(ctx context.Context, q mysql.Querier, id uint64, at time.Time) error {
	if _, err := q.ExecContext(ctx, `UPDATE users SET last_login_at = ? WHERE id = ?`, at, id); err != nil {
		return fmt.Errorf("auth: record login: %w", err)
	}
	return nil
}

// InsertIdentity links an SNS identity to the user. Errors:
// ErrIdentityTaken (a link of the identity exists, committed).
func (store) InsertIdentity(ctx context.Context, q mysql.Querier, userID uint64, id Identity) error {
	_, err := q.ExecContext(ctx, `INSERT INTO user_identities (user_id, provider, subject, email) VALUES (?, ?, ?, ?)`,
		userID, id.Provider, id.Subject, nullIfEmpty(id.Email))
	if err != nil {
		return uniqueErr(fmt.Errorf("auth: link identity: %w", err))
	}
	return nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// LockRole locks the live user with e-mail address email and returns the
// id and role. Errors: ErrNoSuchUser.
func (store) LockRole(ctx context.Context, q mysql.Querier, email string) (id uint64, role string, err error) {
	err = q.QueryRowContext(ctx, `SELECT id, role FROM users WHERE email = ? AND deleted_at IS NULL AND status <> 'deleted' FOR UPDATE`, email).
		Scan(&id, &role)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, "", ErrNoSuchUser
	case err != nil:
		return 0, "", fmt.Errorf("auth: grant role: %w", err)
	}
	return id, role, nil
}

// SetRole changes the user's role.
func (store) SetRole(ctx context.Context, q mysql.Querier, id uint64, role string) error {
	if _, err := q.ExecContext(ctx, `UPDATE users SET role = ? WHERE id = ?`, role, id); err != nil {
		return fmt.Errorf("auth: grant role: %w", err)
	}
	return nil
}

// InsertRoleChange records a role change (ch.Email is not stored).
func (store) InsertRoleChange(ctx context.Context, q mysql.Querier, ch RoleChange) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO user_role_changes (user_id, before_role, after_role, actor, changed_at) VALUES (?, ?, ?, ?, ?)`,
		ch.UserID, ch.Before, ch.After, ch.Actor, ch.At); err != nil {
		return fmt.Errorf("auth: record role change: %w", err)
	}
	return nil
}

// RoleChanges lists the latest role changes, newest first, at most limit,
// with the user's e-mail address ("" when none).
func (store) RoleChanges(ctx context.Context, q mysql.Querier, limit int) ([]RoleChange, error) {
	out, err := mysql.QueryAll(ctx, q, scanRoleChange, `SELECT c.user_id, COALESCE(u.email, ''), c.before_role, c.after_role, c.actor, c.changed_at
		FROM user_role_changes c LEFT JOIN users u ON u.id = c.user_id ORDER BY c.changed_at DESC, c.id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("auth: role changes: %w", err)
	}
	return out, nil
}

func scanRoleChange(row mysql.Scanner) (RoleChange, error) {
	var c RoleChange
	err := row.Scan(&c.UserID, &c.Email, &c.Before, &c.After, &c.Actor, &c.At)
	return c, err
}

// userText is a user's id and one text column (e-mail, nickname).
type userText struct {
	id   uint64
	text string
}

// EmailPage returns up to 1000 users with an e-mail (text) after id after,
// by id.
func (store) EmailPage(ctx context.Context, q mysql.Querier, after uint64) ([]userText, error) {
	return userTexts(ctx, q, "scan e-mails", `SELECT id, email FROM users WHERE id > ? AND email IS NOT NULL ORDER BY id LIMIT 1000`, after)
}

// userTexts lists the rows of query, (id, text) each; what names it in the error.
func userTexts(ctx context.Context, q mysql.Querier, what, query string, args ...any) ([]userText, error) {
	out, err := mysql.QueryAll(ctx, q, func(row mysql.Scanner) (userText, error) {
		var r userText
		err := row.Scan(&r.id, &r.text)
		return r, err
	}, query, args...)
	if err != nil {
		return nil, fmt.Errorf("auth: %s: %w", what, err)
	}
	return out, nil
}

// UserIDByEmail returns the id of the user whose e-mail is email, byte for
// byte; ok false when there is none.
func (store) UserIDByEmail(ctx context.Context, q mysql.Querier, email string) (id uint64, ok bool, err error) {
	err = q.QueryRowContext(ctx, `SELECT id FROM users WHERE email = ?`, email).Scan(&id)
	ok, err = rowFound(err, "look up canonical e-mail")
	return id, ok, err
}

// RewriteEmail sets the user's e-mail to to while it is still from and
// reports whether it did (false: changed since). Errors: ErrEmailTaken.
func (store) RewriteEmail(ctx context.Context, q mysql.Querier, id uint64, from, to string) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE users SET email = ? WHERE id = ? AND email = ?`, to, id, from)
	if err != nil {
		return false, uniqueErr(fmt.Errorf("auth: rewrite e-mail of user %d: %w", id, err))
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// NicknamesWithoutKey returns up to limit users without a nickname key
// (text: the nickname) after id after, by id.
func (store) NicknamesWithoutKey(ctx context.Context, q mysql.Querier, after uint64, limit int) ([]userText, error) {
	return userTexts(ctx, q, "users without a nickname key", `SELECT id, nickname FROM users WHERE nickname_key IS NULL AND id > ? ORDER BY id LIMIT ?`, after, limit)
}

// FillNicknameKey gives the user the NicknameKey of nickname while the
// row has that nickname and no key, and reports whether it did. Errors:
// ErrNicknameTaken (another user holds the key).
func (store) FillNicknameKey(ctx context.Context, q mysql.Querier, id uint64, nickname string) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE users SET nickname_key = ? WHERE id = ? AND nickname = ? AND nickname_key IS NULL`,
		NicknameKey(nickname), id, nickname)
	if key, dup := mysql.DuplicateKey(err); dup && key == "uk_users_nickname_key" {
		return false, ErrNicknameTaken
	}
	if err != nil {
		return false, fmt.Errorf("auth: backfill nickname key of user %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

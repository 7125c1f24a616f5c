package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/web"
)

// ErrNoSuchUser: no account (not deleted) has that e-mail address.
var ErrNoSuchUser = errors.New("no user with that e-mail address")

// Roles are the values of users.role, least privileged first.
func Roles() []string { return []string{web.RoleUser, web.RoleEditor, web.RoleAdmin} }

// RoleChange is one row of user_role_changes.
type RoleChange struct {
	UserID uint64
	Email  string
	Before string
	After  string
	Actor  string // "cli:<name>"
	At     time.Time
}

// GrantRole sets the role of the account with e-mail address email
// (canonicalised like sign-up's) and records who did it (actor, at most 80
// characters) and when in user_role_changes, in one transaction; a grant of
// the role the user already has changes and records nothing (Before ==
// After). The user's access tokens naming the old role stop working within
// auth.account_check_ttl (Accounts); the next token, from login or refresh,
// carries the new role.
func GrantRole(ctx context.Context, db *sql.DB, email, role, actor string, now time.Time) (RoleChange, error) {
	if !slices.Contains(Roles(), role) {
		return RoleChange{}, fmt.Errorf("auth: unknown role %q", role)
	}
	ch := RoleChange{Email: CanonicalEmail(email), After: role, Actor: actor, At: now.UTC()}
	err := mysql.Tx(ctx, db, nil, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id, role FROM users WHERE email = ? AND deleted_at IS NULL AND status <> 'deleted' FOR UPDATE`, ch.Email).
			Scan(&ch.UserID, &ch.Before)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return ErrNoSuchUser
		case err != nil:
			return fmt.Errorf("auth: grant role: %w", err)
		case ch.Before == role:
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = ? WHERE id = ?`, role, ch.UserID); err != nil {
			return fmt.Errorf("auth: grant role: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_role_changes (user_id, before_role, after_role, actor, changed_at) VALUES (?, ?, ?, ?, ?)`,
			ch.UserID, ch.Before, ch.After, ch.Actor, ch.At); err != nil {
			return fmt.Errorf("auth: record role change: %w", err)
		}
		return nil
	})
	return ch, err
}

// RoleChanges returns the latest role changes, newest first (at most limit).
func RoleChanges(ctx context.Context, db *sql.DB, limit int) ([]RoleChange, error) {
	out, err := mysql.QueryAll(ctx, db, scanRoleChange, `SELECT c.user_id, COALESCE(u.email, ''), c.before_role, c.after_role, c.actor, c.changed_at
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

package reminder

import (
	"context"
	"fmt"

	"github.com/soomcare/soomcare/care"
	"github.com/soomcare/soomcare/mysql"
)

// DeviceStore is the SQL of the users' FCM device tokens (table
// device_tokens; a token belongs to one user at a time).
type DeviceStore struct{}

// Register stores userID's token; a token registered by another user
// before (same phone, new login) moves to userID.
func (DeviceStore) Register(ctx context.Context, q mysql.Querier, userID uint64, d Device) error {
	_, err := q.ExecContext(ctx, `INSERT INTO device_tokens (user_id, token, platform) VALUES (?, ?, ?)
		ON DUPLICATE KEY UPDATE user_id = VALUES(user_id), platform = VALUES(platform)`, userID, d.Token, d.Platform)
	if err != nil {
		return fmt.Errorf("reminder: register device: %w", err)
	}
	return nil
}

// Remove deletes userID's token (care.ErrNotFound: the user has no such token).
func (DeviceStore) Remove(ctx context.Context, q mysql.Querier, userID uint64, token string) error {
	if err := care.ExecOne(ctx, q, `DELETE FROM device_tokens WHERE token = ? AND user_id = ?`, token, userID); err != nil {
		return fmt.Errorf("reminder: remove device: %w", err)
	}
	return nil
}

package mysql

import "testing"

func TestFamilyNamesVerbAndTableOnly(t *testing.T) {
	tests := []struct{ query, want string }{
		{"SELECT id, title FROM posts WHERE id = ?", "select posts"},
		{"select count(*) from `post_likes` where post_id = 7", "select post_likes"},
		{"SELECT 1", "select"},
		{"SELECT (SELECT 1) FROM\n\tusers u JOIN posts p ON p.user_id = u.id", "select users"},
		{"SELECT * FROM (SELECT id FROM posts) x", "select"},
		{"INSERT INTO comments (post_id, body) VALUES (?, '욕설 예시 텍스트')", "insert comments"},
		{"INSERT IGNORE INTO reminder_deliveries(id) VALUES (1)", "insert reminder_deliveries"},
		{"insert users (email) values ('a@example.com')", "insert users"},
		{"REPLACE INTO settings VALUES (1)", "replace settings"},
		{"UPDATE LOW_PRIORITY users SET nickname = 'secret' WHERE id = 1", "update users"},
		{"update `posts` set hidden = 1", "update posts"},
		{"DELETE FROM refresh_tokens WHERE token_hash = 'abc'", "delete refresh_tokens"},
		{"DELETE FROM ? WHERE 1", "delete"},
		{"BEGIN", "begin"},
		{"SET time_zone = '+00:00'", "set"},
		{"  ", "other"},
		{"'quoted' FROM x", "other"},
		{"WITH x AS (SELECT 1) SELECT * FROM x", "with"},
	}
	for _, tt := range tests {
		if got := Family(tt.query); got != tt.want {
			t.Errorf("Family(%q) = %q, want %q", tt.query, got, tt.want)
		}
	}
}

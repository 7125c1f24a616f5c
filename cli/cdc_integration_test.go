package cli

import (
	"testing"

	"github.com/soomcare/soomcare/care/caretest"
)

// The operator's CDC commands against real MariaDB and OpenSearch: a
// reindex leaves a poisoned row out and records it; `cdc dead-letters
// list` shows it (no row text), `retry` keeps it open while the row is bad
// and resolves it once fixed; `cdc status` and `migrate status` read MySQL;
// `cdc reset` forgets the checkpoint; `dismiss` closes a letter by hand.
func TestIntegrationCDCCommands(t *testing.T) {
	s := newCLIScratch(t, "d")
	db, prefix := s.db, s.prefix
	author := caretest.NewUser(t, db, "기록하는고래")
	if _, err := db.Exec(`INSERT INTO contents (id, author_id, title, body, category, tags, status, published_at)
	  VALUES (61, ?, '독성 행', '비밀 본문', '약물', '{"secret": 1}', 'published', NOW()),
	         (62, ?, '좋은 행', '본문', '약물', '["좋은"]', 'published', NOW())`, author, author); err != nil {
		t.Fatal(err)
	}
	s.play(t, []cliStep{
		// One bad row is one row left out, however many passes read it (before: "7 rows").
		{"reindex leaves the row out", []string{"reindex", "--no-progress", "--warm", "0", "contents"}, "", ExitOK,
			[]string{"1 rows cannot become documents and were left out"}, []string{"secret", "비밀"}},
		{"list", []string{"cdc", "dead-letters", "list"}, "", ExitOK, []string{prefix + "-contents", "61", "row", "open"}, []string{"secret", "비밀"}},
		{"list one table and id", []string{"cdc", "dead-letters", "list", "--table", "contents", "--id", "61"}, "", ExitOK, []string{"61"}, nil},
		{"retry, still bad", []string{"cdc", "dead-letters", "retry"}, "", ExitFailure, []string{"resolved 0 documents, 1 still failing", "contents/61"}, []string{"secret", "비밀"}},
		{"retry, fixed", []string{"cdc", "dead-letters", "retry"}, `UPDATE contents SET tags = '["고침"]' WHERE id = 61`, ExitOK, []string{"resolved 1 documents, 0 still failing"}, nil},
		{"nothing open", []string{"cdc", "dead-letters", "list"}, "", ExitOK, []string{"no dead letters"}, nil},
		{"resolved with --all", []string{"cdc", "dead-letters", "list", "--all"}, "", ExitOK, []string{"RESOLVED", "contents  61"}, []string{"open"}},
		{"a second poisoned row", []string{"reindex", "--no-progress", "--warm", "0", "contents"},
			`INSERT INTO contents (id, author_id, title, body, category, tags, status, published_at) SELECT 63, MIN(id), '또 독성', '본문', '약물', '[7]', 'published', NOW() FROM users`,
			ExitOK, []string{"1 rows cannot become documents"}, nil},
		{"dismiss by hand", []string{"cdc", "dead-letters", "dismiss", "2", "999"}, "", ExitOK, []string{"dismissed 1 of 2 dead letters"}, nil},
		{"nothing open after dismissing", []string{"cdc", "dead-letters", "list"}, "", ExitOK, []string{"no dead letters"}, nil},
		{"dismiss needs ids", []string{"cdc", "dead-letters", "dismiss", "x"}, "", ExitUsage, []string{"dead letter id \"x\""}, nil},
		{"status without a checkpoint", []string{"cdc", "status"}, "", ExitOK, []string{"snapshot"}, nil},
		{"reset", []string{"cdc", "reset"}, "", ExitOK, []string{"checkpoint"}, nil},
		{"migrate status", []string{"migrate", "status"}, "", ExitOK, []string{"APPLIED AT", "00048_user_role_changes.sql"}, nil},
	})
}

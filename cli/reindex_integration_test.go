package cli

import (
	"testing"

	"github.com/soomcare/soomcare/care/caretest"
)

// The operator's view of reindex, rollback and verify: a rollback says what
// it caught up and that it verified; a refused one exits 1 with the reason
// and moves nothing; --max-age/--force without --rollback is a usage error;
// verify names the differing ids and what to do.
func TestIntegrationReindexRollbackVerifyCLI(t *testing.T) {
	s := newCLIScratch(t, "r")
	db, prefix := s.db, s.prefix
	author := caretest.NewUser(t, db, "숨쉬는고래")
	if _, err := db.Exec(`INSERT INTO posts (id, user_id, category, title, body) VALUES (1, ?, '질문', '밤 기침', '본문'), (2, ?, '자유', '흡입기', '본문')`, author, author); err != nil {
		t.Fatal(err)
	}
	s.play(t, []cliStep{
		{"first build", []string{"reindex", "--no-progress", "--warm", "0", "posts"}, "", ExitOK, []string{"posts: 2 rows read"}, nil},
		{"second build", []string{"reindex", "--no-progress", "--warm", "0", "posts"}, "", ExitOK, []string{"previous " + prefix + "-posts-"}, nil},
		{"--force alone", []string{"reindex", "--force", "posts"}, "", ExitUsage, []string{"--max-age and --force go with --rollback"}, nil},
		{"too old", []string{"reindex", "--rollback", "--max-age", "1ns", "posts"}, "UPDATE posts SET status = 'hidden' WHERE id = 2", ExitFailure,
			[]string{"rollback refused", "--force rolls back anyway", "no alias was moved"}, nil},
		{"rollback", []string{"reindex", "--rollback", "posts"}, "", ExitOK,
			[]string{"posts: alias " + prefix + "-posts now on", "caught up since it stopped being live", "verified equal to MySQL (1 documents)"}, nil},
		{"equal", []string{"verify", "posts"}, "", ExitOK, []string{prefix + "-posts: equal (1 documents)"}, nil},
		{"different", []string{"verify", "posts"}, "UPDATE posts SET title = '새벽 기침' WHERE id = 1", ExitFailure,
			[]string{"different 1 (id 1)", "the ids in parentheses are primary keys of posts", "soomcare reindex posts"}, nil},
		{"nothing to roll back to", []string{"reindex", "--rollback", "posts"}, "", ExitFailure, []string{"no previous index to roll back to"}, nil},
	})
}

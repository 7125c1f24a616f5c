package mysql

import (
	"errors"
	"fmt"
	"testing"

	mysqldrv "github.com/go-sql-driver/mysql"
)

func TestDuplicateKey(t *testing.T) {
	tests := []struct {
		name string
		err  error
		key  string
		ok   bool
	}{
		{"MariaDB", &mysqldrv.MySQLError{Number: 1062, Message: "Duplicate entry 'a@x.kr' for key 'uk_users_email'"}, "uk_users_email", true},
		{"MySQL 8 names the table", &mysqldrv.MySQLError{Number: 1062, Message: "Duplicate entry 'a@x.kr' for key 'users.uk_users_email'"}, "uk_users_email", true},
		{"a value that looks like a key", &mysqldrv.MySQLError{Number: 1062, Message: "Duplicate entry 'uk_users_email' for key 'uk_users_nickname'"}, "uk_users_nickname", true},
		{"wrapped", fmt.Errorf("insert: %w", &mysqldrv.MySQLError{Number: 1062, Message: "Duplicate entry '1-2' for key 'PRIMARY'"}), "PRIMARY", true},
		{"another error", &mysqldrv.MySQLError{Number: 1213, Message: "Deadlock found"}, "", false},
		{"not MySQL", errors.New("Duplicate entry"), "", false},
		{"nil", nil, "", false},
	}
	for _, tt := range tests {
		key, ok := DuplicateKey(tt.err)
		if key != tt.key || ok != tt.ok || IsDuplicateKey(tt.err) != tt.ok {
			t.Errorf("%s: %q %v, want %q %v", tt.name, key, ok, tt.key, tt.ok)
		}
	}
	if !IsDeadlock(fmt.Errorf("tx: %w", &mysqldrv.MySQLError{Number: 1213})) || IsDeadlock(errors.New("x")) {
		t.Error("IsDeadlock")
	}
}

package cdc

import (
	"errors"
	"fmt"
	"testing"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	perrors "github.com/pingcap/errors"
)

func TestClassifyPurgedByErrorNumber(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		purged bool
	}{
		{"server error 1236, traced as canal does", perrors.Trace(&gomysql.MyError{Code: 1236, State: "HY000",
			Message: "Could not find first log file name in binary log index file"}), true},
		{"server error 1236 wrapped with %w", fmt.Errorf("start canal: %w", &gomysql.MyError{Code: 1236, Message: "binlog truncated"}), true},
		{"a local port that contains 1236", errors.New("dial tcp 127.0.0.1:51236: connect: connection refused"), false},
		{"a message that quotes the old text", errors.New("read 127.0.0.1:41236->127.0.0.1:3306: Could not find first log file (relayed)"), false},
		{"another server error", perrors.Trace(&gomysql.MyError{Code: 1045, Message: "Access denied"}), false},
		{"nil", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.err)
			if errors.Is(got, ErrBinlogPurged) != tc.purged {
				t.Fatalf("classify(%v) = %v, purged want %v", tc.err, got, tc.purged)
			}
			if tc.err != nil && got == nil {
				t.Fatal("classify dropped the error")
			}
		})
	}
}

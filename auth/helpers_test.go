package auth_test

import (
	"encoding/base64"
	"errors"
	"strconv"
	"testing"
)

func jwtSegment(t *testing.T, s string) string {
	t.Helper()
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func errorsIs(err, target error) bool { return errors.Is(err, target) }

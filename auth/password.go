package auth

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/soomcare/soomcare/usertext"
	"github.com/soomcare/soomcare/web"
)

// FieldWeakPassword is the field error code (on "password") of a sign-up
// password that is long enough but guessable: on the common-password list,
// one character repeated, or containing the e-mail's local part or the
// nickname. Clients may switch on it.
const FieldWeakPassword = "weak_password"

//go:embed data/common-passwords.txt.gz
var commonPasswordsGz []byte // read-only; see data/README.md for source and licence

// PasswordPolicy is the sign-up password rule of NIST SP 800-63B §3.1.1.2:
// 8-128 characters, no control characters, and none of the guessable ones
// (FieldWeakPassword). No composition rules (no "one digit, one symbol").
type PasswordPolicy struct {
	common map[string]struct{}
}

// NewPasswordPolicy loads the embedded common-password list (19,640
// entries, data/common-passwords.txt.gz).
func NewPasswordPolicy() (*PasswordPolicy, error) {
	zr, err := gzip.NewReader(bytes.NewReader(commonPasswordsGz))
	if err != nil {
		return nil, fmt.Errorf("auth: common passwords: %w", err)
	}
	defer zr.Close()
	p := &PasswordPolicy{common: make(map[string]struct{}, 20000)}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" {
			p.common[w] = struct{}{}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("auth: common passwords: %w", err)
	}
	return p, nil
}

// CommonCount is the number of common passwords refused.
func (p *PasswordPolicy) CommonCount() int { return len(p.common) }

// Check records a field error on "password" when pw breaks the rule; email
// (canonical) and nickname are the sign-up's own.
func (p *PasswordPolicy) Check(f *web.Fields, pw, email, nickname string) {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < 8:
		f.Add("password", web.FieldTooShort, "비밀번호는 8자 이상이어야 합니다.")
	case n > 128 || len(pw) > 256:
		f.Add("password", web.FieldTooLong, "비밀번호는 128자 이하여야 합니다.")
	case usertext.HasControl(pw):
		f.Add("password", web.FieldInvalid, "비밀번호에 제어 문자(NUL 등)를 쓸 수 없습니다.")
	case strings.TrimSpace(pw) == "":
		f.Add("password", web.FieldInvalid, "비밀번호가 비어 있습니다.")
	default:
		if msg := p.weakness(pw, email, nickname); msg != "" {
			f.Add("password", FieldWeakPassword, msg)
		}
	}
}

// weakness says why a well-formed password is guessable, or "".
func (p *PasswordPolicy) weakness(pw, email, nickname string) string {
	lower := strings.ToLower(pw)
	if first, _ := utf8.DecodeRuneInString(lower); strings.Trim(lower, string(first)) == "" {
		return "한 글자만 반복한 비밀번호는 쓸 수 없습니다."
	}
	if _, ok := p.common[strings.TrimSpace(lower)]; ok {
		return "너무 흔한 비밀번호입니다. 다른 비밀번호를 골라 주세요."
	}
	local := email
	if i := strings.LastIndexByte(email, '@'); i >= 0 {
		local = email[:i]
	}
	for _, part := range []string{local, strings.TrimSpace(nickname)} {
		if utf8.RuneCountInString(part) >= 3 && strings.Contains(lower, strings.ToLower(part)) {
			return "비밀번호에 이메일 주소나 닉네임을 넣을 수 없습니다."
		}
	}
	return ""
}

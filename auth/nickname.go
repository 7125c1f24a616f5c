package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/soomcare/soomcare/usertext"
	"github.com/soomcare/soomcare/web"
)

// CheckNickname validates a nickname (2-20 characters after trimming, one
// line, and nothing usertext refuses: control, invisible, bidi-override
// characters and Hangul fillers) and returns it trimmed; empty is allowed
// unless required. Uniqueness is decided by NicknameKey.
func CheckNickname(f *web.Fields, field, raw string, required bool) string {
	nick := strings.TrimSpace(raw)
	if nick == "" {
		if required {
			f.Add(field, web.FieldRequired, "닉네임을 입력해 주세요.")
		}
		return ""
	}
	n := utf8.RuneCountInString(nick)
	if n < 2 || n > 20 || usertext.Check(nick, true) != nil {
		f.Add(field, web.FieldInvalid, "닉네임은 2~20자여야 하며 제어 문자나 보이지 않는 문자를 쓸 수 없습니다.")
	}
	return nick
}

// NicknameKey is what two nicknames must not share (users.nickname_key,
// unique): the Unicode TR39 confusable skeleton of the case-folded NFKC
// form, case-folded again (the skeleton maps 0 to O), with the characters
// usertext refuses dropped and white space runs made one space. So "관리자",
// "ADMIN"/"admin", Cyrillic "аdmin", full-width "ａｄｍｉｎ" and "adm1n"/"admln"
// collide, and so do Hangul compatibility jamo and the syllable they look
// like ("가ㄱ" and "각"). The key is NFC so it stays short; it is only
// compared, never shown.
func NicknameKey(nick string) string {
	fold := cases.Fold()
	k := fold.String(norm.NFKC.String(nick))
	k = confusables.Skeleton(k)
	k = fold.String(k)
	var b strings.Builder
	space := false
	for _, r := range norm.NFC.String(k) {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case usertext.Check(string(r), true) != nil:
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// NicknameBackfill reports what BackfillNicknameKeys did.
type NicknameBackfill struct {
	Filled    int      // rows given their key
	Colliding []uint64 // ids whose key another user holds already (left without one)
}

// BackfillNicknameKeys gives users rows written without a nickname key
// (before migration 00046, or by seed and tools that insert users directly)
// their NicknameKey, in pages, oldest first. A row whose key another user
// holds keeps NULL and is reported: the older account keeps the nickname,
// and an admin decides about the other. Safe to run from several `serve`
// processes at once (each row is updated only while still NULL and
// unchanged). `serve` runs it at start; log may be nil.
func BackfillNicknameKeys(ctx context.Context, db *sql.DB, log *slog.Logger) (NicknameBackfill, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	out, err := backfillNicknameKeys(ctx, db)
	if err != nil {
		return out, err
	}
	if out.Filled > 0 || len(out.Colliding) > 0 {
		log.InfoContext(ctx, "auth: nickname keys filled", "users", out.Filled)
	}
	if len(out.Colliding) > 0 {
		// Ids only: nicknames are users' text.
		log.WarnContext(ctx, "auth: users whose nickname looks like an older user's; they keep it, but it is not protected from look-alikes",
			"user_ids", fmt.Sprint(out.Colliding))
	}
	return out, nil
}

func backfillNicknameKeys(ctx context.Context, db *sql.DB) (NicknameBackfill, error) {
	var out NicknameBackfill
	var st store
	var after uint64
	for {
		rows, err := st.NicknamesWithoutKey(ctx, db, after, 500)
		if err != nil {
			return out, err
		}
		if len(rows) == 0 {
			return out, nil
		}
		for _, r := range rows {
			after = r.id
			filled, err := st.FillNicknameKey(ctx, db, r.id, r.text)
			switch {
			case errors.Is(err, ErrNicknameTaken):
				out.Colliding = append(out.Colliding, r.id)
			case err != nil:
				return out, err
			case filled:
				out.Filled++
			}
		}
	}
}

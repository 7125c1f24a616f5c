package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// CanonicalEmail returns the one form of an e-mail address that is stored in
// users.email (utf8mb4_bin: compared byte for byte), looked up at login and
// counted by the login throttle:
//
//   - white space around it is trimmed;
//   - the local part (before the last '@') is lower-cased (Unicode simple
//     case mapping) and NFC-normalised, nothing else: accents, dots and
//     +tags are kept, so alicé@x.com and alice@x.com are two addresses (and
//     may be two accounts), and neither ever signs into the other;
//   - the domain is its IDNA lookup form in ASCII (UTS #46 mapping: lower
//     case, width folding, NFC; Unicode labels as xn--…), so 例え.JP and
//     xn--r8jz45g.jp are one domain; a domain IDNA refuses (an underscore,
//     say) is lower-cased and NFC-normalised instead.
//
// It is idempotent, and the identity on an address already in that form.
func CanonicalEmail(raw string) string {
	s := strings.TrimSpace(raw)
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return foldText(s)
	}
	return foldText(s[:at]) + "@" + canonicalDomain(s[at+1:])
}

func foldText(s string) string { return norm.NFC.String(strings.ToLower(norm.NFC.String(s))) }

func canonicalDomain(d string) string {
	folded := foldText(d)
	if a, err := idna.Lookup.ToASCII(folded); err == nil && a != "" {
		return a
	}
	return folded
}

// EmailReport is what CanonicalizeEmails found among users.email values that
// are not in canonical form (rows written before CanonicalEmail existed).
type EmailReport struct {
	Checked    int        // rows with an e-mail
	Rewritten  []uint64   // rows rewritten into canonical form (none on a dry run)
	Pending    []uint64   // rows a dry run would rewrite
	Collisions [][]uint64 // rows whose canonical forms are equal: left as they are
}

// ErrEmailCollision is returned by CanonicalizeEmails when rows collide.
var ErrEmailCollision = errors.New("e-mail addresses collide in canonical form")

// CanonicalizeEmails finds users whose e-mail is not in canonical form and,
// when apply is set, rewrites each into it. Rows whose canonical forms are
// equal (to each other or to a row already canonical) are never merged or
// changed: they are listed in Collisions and the error wraps
// ErrEmailCollision, so an operator decides which account keeps the address.
// It needs migration 00037 (users.email in utf8mb4_bin). It never logs or
// returns the addresses themselves, only user ids.
func CanonicalizeEmails(ctx context.Context, db *sql.DB, apply bool) (EmailReport, error) {
	var rep EmailReport
	groups, err := nonCanonicalEmails(ctx, db, &rep)
	if err != nil {
		return rep, err
	}
	canon := make([]string, 0, len(groups))
	for c := range groups {
		canon = append(canon, c)
	}
	sort.Strings(canon)
	for _, c := range canon {
		if err := canonicalizeGroup(ctx, db, c, groups[c], apply, &rep); err != nil {
			return rep, err
		}
	}
	if len(rep.Collisions) > 0 {
		return rep, fmt.Errorf("%w: users %v (each group would share one address; resolve by hand, e.g. change or clear all but one)", ErrEmailCollision, rep.Collisions)
	}
	return rep, nil
}

// nonCanonicalEmails scans every user with an e-mail, 1000 at a time,
// counting them in rep.Checked, and returns those not in canonical form by
// their canonical form.
func nonCanonicalEmails(ctx context.Context, db *sql.DB, rep *EmailReport) (map[string][]userText, error) {
	groups := map[string][]userText{}
	var last uint64
	for {
		page, err := store{}.EmailPage(ctx, db, last)
		if err != nil {
			return nil, err
		}
		for _, r := range page {
			last = r.id
			if c := CanonicalEmail(r.text); c != r.text {
				groups[c] = append(groups[c], r)
			}
		}
		rep.Checked += len(page)
		if len(page) < 1000 {
			return groups, nil
		}
	}
}

// canonicalizeGroup handles the rows g whose canonical form is c: a
// collision when there are several, or c is some other row's already; else
// the one row is pending (dry run) or rewritten.
func canonicalizeGroup(ctx context.Context, db *sql.DB, c string, g []userText, apply bool, rep *EmailReport) error {
	var ids []uint64
	owner, taken, err := store{}.UserIDByEmail(ctx, db, c)
	if err != nil {
		return err
	}
	if taken {
		ids = append(ids, owner)
	}
	for _, r := range g {
		ids = append(ids, r.id)
	}
	if len(ids) > 1 {
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		rep.Collisions = append(rep.Collisions, ids)
		return nil
	}
	r := g[0]
	if !apply {
		rep.Pending = append(rep.Pending, r.id)
		return nil
	}
	rewritten, err := store{}.RewriteEmail(ctx, db, r.id, r.text, c)
	switch {
	case errors.Is(err, ErrEmailTaken): // taken since the scan
		rep.Collisions = append(rep.Collisions, []uint64{r.id})
	case err != nil:
		return err
	case rewritten: // else changed since the scan; left alone
		rep.Rewritten = append(rep.Rewritten, r.id)
	}
	return nil
}

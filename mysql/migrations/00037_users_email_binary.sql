-- +goose Up
-- users.email holds the canonical e-mail (auth.CanonicalEmail: trimmed, local part lower-cased and NFC,
-- domain in IDNA ASCII form) and compares byte for byte. Under utf8mb4_unicode_ci (accent- and
-- case-insensitive) `alicé@x.com` found alice's row at login while the login throttle counted it as
-- another address: every spelling brought fresh guesses (issue #10).
-- This cannot fail on existing rows (utf8mb4_bin is finer than utf8mb4_unicode_ci, so rows unique before
-- stay unique) and changes no value. Rows stored in another form (only possible for addresses with
-- non-ASCII characters, or ones written outside the app) cannot sign in until rewritten: after
-- `migrate up` run `soomcare emails` (dry run), then `soomcare emails --apply`. It lists rows that
-- collide in canonical form by id and never merges them (exit 1), so an operator decides.
ALTER TABLE users MODIFY email VARCHAR(255) COLLATE utf8mb4_bin NULL;

-- +goose Down
-- Fails with a duplicate key if two addresses now differ only in case or accents (alice@ and alicé@):
-- resolve those rows first.
ALTER TABLE users MODIFY email VARCHAR(255) COLLATE utf8mb4_unicode_ci NULL;

-- +goose Up
-- users.nickname_key is auth.NicknameKey(nickname): the Unicode TR39 confusable skeleton of the case-folded NFKC
-- nickname. Unique, so look-alike nicknames collide even between concurrent sign-ups: '관리자' and '관리자' + U+3164,
-- 'admin' and Cyrillic 'аdmin' or 'ADMIN' (issue #26). SQL cannot compute the skeleton, so existing rows (and rows
-- that tools insert directly, like seed) start NULL (a unique key admits many NULLs) and `serve` fills them at start
-- (auth.BackfillNicknameKeys, idempotent, safe from several replicas); a row whose key an older user holds stays
-- NULL and is logged by id for an admin.
-- utf8mb4_bin: the key is compared byte for byte (the skeleton is the whole comparison). 255 characters: a skeleton
-- can be longer than the 20-character nickname (one character may map to several).
ALTER TABLE users ADD COLUMN nickname_key VARCHAR(255) COLLATE utf8mb4_bin NULL, ADD UNIQUE KEY uk_users_nickname_key (nickname_key);

-- +goose Down
ALTER TABLE users DROP INDEX uk_users_nickname_key, DROP COLUMN nickname_key;

-- +goose Up
-- Sign-ups are throttled per client address too (auth.signup_throttle), in the same table: scope 'signup'
-- (SHA-256 of the client address, IPv6 by its /64). Every sign-up attempt counts, successful or not.
ALTER TABLE login_throttles MODIFY scope ENUM('account', 'ip', 'signup') NOT NULL;

-- +goose Down
DELETE FROM login_throttles WHERE scope = 'signup';
ALTER TABLE login_throttles MODIFY scope ENUM('account', 'ip') NOT NULL;

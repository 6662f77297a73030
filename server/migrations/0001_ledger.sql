-- One schema for SQLite and PostgreSQL: TEXT ids made by the application, BIGINT amounts in minor units,
-- timestamps as fixed-width RFC 3339 text (they sort as they read).

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT,
    created_at TEXT NOT NULL
);
-- Case-insensitive uniqueness, decided by the database rather than by a SELECT first.
CREATE UNIQUE INDEX users_email_unique ON users (lower(email));

CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    idempotency_key TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    currency TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    charge_id TEXT,
    -- While a request works on a pending payment it holds it until this time (epoch ms); a crashed
    -- request's hold runs out and a retry may resume the payment.
    locked_until BIGINT,
    created_at TEXT NOT NULL,
    -- The fail-safe: one payment per (user, key), even if the Redis layer is bypassed or lost.
    CONSTRAINT payments_one_per_key UNIQUE (user_id, idempotency_key)
);
CREATE INDEX payments_by_user ON payments (user_id, created_at);

-- The simulated card processor's own books: one charge per processor key, however often it is asked.
CREATE TABLE charges (
    id TEXT PRIMARY KEY,
    processor_key TEXT NOT NULL UNIQUE,
    payment_id TEXT NOT NULL REFERENCES payments (id),
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('succeeded', 'declined')),
    created_at TEXT NOT NULL
);
CREATE INDEX charges_by_payment ON charges (payment_id);

CREATE TABLE preferences (
    user_id TEXT PRIMARY KEY REFERENCES users (id),
    theme TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE products (
    user_id TEXT NOT NULL REFERENCES users (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    price_minor BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, id)
);

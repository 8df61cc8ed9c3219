-- 001 core: accounts, sessions, API tokens, audit, settings.
-- Written in the SQL subset that PostgreSQL also accepts where it costs
-- nothing (TEXT timestamps in RFC 3339 UTC, INTEGER ids).

CREATE TABLE schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
);

-- Departments and units (报到部门 / 包保单位). Work orders are dispatched to
-- them; department handlers are scoped to one.
CREATE TABLE departments (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    name_en    TEXT,
    kind       TEXT NOT NULL DEFAULT 'department', -- department | unit | enterprise
    contact    TEXT,
    phone      TEXT,
    active     INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

-- Staff and other accounts. scope_kind: all | grid | department | self.
-- scope_grid is a grid code; the account sees that grid and its subtree.
CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    login          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    phone          TEXT,
    role           TEXT NOT NULL,
    scope_kind     TEXT NOT NULL DEFAULT 'all',
    scope_grid     TEXT,
    scope_dept     INTEGER REFERENCES departments (id),
    password_hash  TEXT,
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_until   INTEGER NOT NULL DEFAULT 0,   -- epoch seconds
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX users_role ON users (role);

-- Browser sessions: only the hash of the cookie value is stored.
CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    csrf_token  TEXT NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    created_at  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    ip          TEXT,
    revoked     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Bearer tokens for API clients and devices (设备): issued and revoked by
-- an administrator; only the hash is stored, the token is shown once.
CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    prefix      TEXT NOT NULL,            -- first characters, to recognise it
    user_id     INTEGER NOT NULL REFERENCES users (id),
    label       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    created_by  INTEGER REFERENCES users (id),
    last_used   INTEGER,
    expires_at  INTEGER,
    revoked_at  TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- The audit trail: every write, append-only. Triggers refuse UPDATE and
-- DELETE so that no interface (nor a bug) can rewrite history.
CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    user_id     INTEGER,
    login       TEXT,
    role        TEXT,
    ip          TEXT,
    request_id  TEXT,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT,
    detail      TEXT                     -- JSON: what changed
);
CREATE INDEX audit_object ON audit (object_type, object_id, id);
CREATE INDEX audit_user ON audit (user_id, id);
CREATE INDEX audit_at ON audit (at, id);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;

-- Deployment settings (key → JSON value), versioned by valid_from so that
-- a past period can be judged by the rules in force then.
CREATE TABLE settings (
    key         TEXT NOT NULL,
    valid_from  TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_by  INTEGER,
    PRIMARY KEY (key, valid_from)
);

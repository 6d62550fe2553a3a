package tenant

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors that callers branch on with errors.Is. Backends and the
// service wrap them with %w, so the check works from storage up to handlers.
var (
	ErrNotFound      = errors.New("not found")
	ErrAlreadyExists = errors.New("already exists")
	ErrSlugInvalid   = errors.New("invalid tenant slug")
	ErrSlugReserved  = errors.New("reserved tenant slug")
	ErrInvalid       = errors.New("invalid input")
	ErrConflict      = errors.New("conflicting change")
)

// ErrStale refuses a change made from a record as it was read earlier (an
// edit form's version) when the record has changed since: saving it would
// silently undo the change made in between.
var ErrStale = fmt.Errorf("%w: the record changed since it was read", ErrConflict)

// Collection names a kind of record. Every record lives in one collection of
// one tenant; global records (the tenant list itself) use the empty tenant ID.
type Collection string

// The collections of the store, every one of them, each with the layout of
// its keys; a collection holding keys of several kinds names the files that
// write them, whose comments say more. Index collections map a lookup value
// to a primary key; the domain code keeps them in step inside one
// transaction. A key starting with "\x00" is never a lookup value: markers
// and records kept beside an index use such keys.
const (
	// "" / slug → Tenant.
	CollTenants Collection = "tenants"
	// "" / NameKey(name) + "\x00" + slug → slug; "\x00indexed" once built
	// (orgname.go).
	CollTenantNames Collection = "tenant_names"
	// sub → User.
	CollUsers Collection = "users"
	// lower(username) → sub.
	CollUsersByName Collection = "users_by_name"
	// lower(email) + "\x00" + sub → sub.
	CollUsersByEmail Collection = "users_by_email"
	// name → Group.
	CollGroups Collection = "groups"
	// group name + "\x00" + sub → sub; "\x00move\x00" + old name → the
	// move of a renamed or deleted group's members (group_move.go);
	// "\x00indexed" once built (groups.go).
	CollGroupMembers Collection = "group_members"
	// client id → Client.
	CollClients Collection = "clients"
	// key id → SigningKey.
	CollKeys Collection = "keys"
	// "at:" + id → access token (provider/records.go).
	CollAccessTokens Collection = "access_tokens"
	// "rt:" + token hash → refresh token; "fam:" + family id → token
	// family; "usr:" + sub + ":" + family id → "" (provider/records.go,
	// expiry.go).
	CollRefreshTokens Collection = "refresh_tokens"
	// "s:" + session id → Session and "u:" + sub + ":" + session id → ""
	// (session.go); the admin console's sessions, "console:" and "cu:"
	// likewise, and its sign-ins under way, "console-login:", and forms
	// sent once, "console-once:" (session.go, ui/console); "replaced:" +
	// session id → the session that replaced it (provider/sessions.go).
	CollSessions Collection = "sessions"
	// flow id hash → sign-in state (tenant/auth).
	CollAuthFlows Collection = "auth_flows"
	// "" / "due/" + due time + "/" + id → queued mail; "failed/" + id →
	// mail given up on; "id/" + id → its key; "owner/" + tenant ID +
	// "\x00" + sub + "\x00" + id → "" (outbox.go).
	CollOutbox Collection = "outbox"
	// time-ordered id → AuditEvent (audit.go).
	CollAudit Collection = "audit"
	// "login:", "account:" or "ip:" + what is counted → failure counter
	// (tenant/auth/lockout.go).
	CollLockouts Collection = "lockouts"
	// user handle (hex) → sub.
	CollWebAuthnHandle Collection = "webauthn_handle"
	// credential ID (hex) → sub; "\x00indexed" once built (mfa.go).
	CollWebAuthnCreds Collection = "webauthn_creds"
	// expiry second (hex) + "\x00" + collection + "\x00" + key → ""
	// (expiry.go).
	CollExpiry Collection = "expiry"
	// kind + "/" + key → rateWindow (ratelimit.go).
	CollRateLimits Collection = "rate_limits"
	// "user/" + sub → resetState; "login/" + lower(login) → loginAttempts
	// (reset.go).
	CollPasswordResets Collection = "password_resets"
)

// Tx is one transaction over the store. Keys and values are opaque bytes to
// the backend; the domain code in this package owns their encoding, which is
// why a backend is small and why nothing here depends on bbolt.
//
// Values returned by Get and Scan are copies owned by the caller.
type Tx interface {
	// Get returns the value under key, or an error wrapping ErrNotFound.
	Get(c Collection, tenantID, key string) ([]byte, error)
	// Put stores value under key, replacing any earlier value.
	Put(c Collection, tenantID, key string, value []byte) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(c Collection, tenantID, key string) error
	// Scan visits keys that start with prefix and sort after `after`, in
	// ascending byte order, until visit returns false.
	Scan(c Collection, tenantID, prefix, after string, visit func(key string, value []byte) bool) error
	// DeleteTenant removes every record of a tenant in every collection.
	DeleteTenant(tenantID string) error
}

// Store runs transactions. A closure passed to Update or Batch may run more
// than once, so it must only read and write through tx and keep its side
// effects (mail, cache updates) until after the call returns.
type Store interface {
	View(ctx context.Context, fn func(tx Tx) error) error
	Update(ctx context.Context, fn func(tx Tx) error) error
	// Batch is Update for writes that many requests make at once (audit
	// records, last-used stamps); the backend may group them into one commit.
	Batch(ctx context.Context, fn func(tx Tx) error) error
	// Later queues write for a transaction to come, and returns at once:
	// the next Update to begin, or the store's own within LaterDelay.
	// Every write queued before an Update begins commits in it or before
	// it, so a finished sign-in's records are durable by the time its code
	// is exchanged for tokens. A crash before that loses the write, so
	// Later is for records whose loss costs little (a sign-in's session,
	// audit event and last sign-in), never for what someone was promised
	// (tokens, a new password). Writes run once, in the order queued;
	// when one fails, or the commit that held it, failed gets the error
	// and the write is dropped.
	Later(write func(tx Tx) error, failed func(error))
	// Flush commits what Later queued, if anything; a reader that must see
	// every write made so far (a session cookie not found) calls it. Writes
	// an unfinished Update has taken count as queued: Flush returns once
	// they are committed or dropped.
	Flush(ctx context.Context) error
	// Close commits what Later queued and closes the store. A write queued
	// once Close has begun is not queued: its failed gets an error.
	Close() error
}

// DataFormat is the version of the records' layout that this build writes,
// kept in the data file by its backend. A backend refuses a file whose
// version is higher: it was written by a newer build, whose records this
// one could misread and, rewriting them, damage (docs/secrets.md, "Going
// back to an older version"). Raise it with a change that an older build
// would get wrong; a file of a lower version is this build's to bring up
// to date.
//
// Builds before 1 kept no version, and never refuse a file: going back to
// one of them means restoring the copy of the data file made before the
// upgrade.
//
//	1: signing keys and legacy pool secrets sealed (since 8d7ddad), the
//	   version first written.
//	2: the index of organization names (CollTenantNames), which a build of
//	   format 1 would leave behind when it creates, renames or deletes a
//	   tenant; the start-up pass (IndexTenantNames) builds it for a file of
//	   format 1.
const DataFormat = 2

// LaterDelay bounds how long a write queued with Store.Later waits when no
// Update comes to carry it.
const LaterDelay = 50 * time.Millisecond

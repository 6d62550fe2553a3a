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

// The collections of the store. Index collections map a lookup value to a
// primary key; the domain code keeps them in step inside one transaction.
const (
	CollTenants        Collection = "tenants"         // "" / slug → Tenant
	CollTenantNames    Collection = "tenant_names"    // "" / NameKey(name) + "\x00" + slug → slug
	CollUsers          Collection = "users"           // sub → User
	CollUsersByName    Collection = "users_by_name"   // lower(username) → sub
	CollUsersByEmail   Collection = "users_by_email"  // lower(email) + "\x00" + sub → sub
	CollGroups         Collection = "groups"          // name → Group
	CollGroupMembers   Collection = "group_members"   // group name + "\x00" + sub → sub
	CollClients        Collection = "clients"         // client id → Client
	CollKeys           Collection = "keys"            // key id → SigningKey
	CollAccessTokens   Collection = "access_tokens"   // id → access token record
	CollRefreshTokens  Collection = "refresh_tokens"  // token hash → refresh token record
	CollSessions       Collection = "sessions"        // session id hash → Session
	CollAuthFlows      Collection = "auth_flows"      // flow id → auth state machine state
	CollOutbox         Collection = "outbox"          // id → queued mail
	CollAudit          Collection = "audit"           // time-ordered id → audit event
	CollLockouts       Collection = "lockouts"        // key → failure counter
	CollWebAuthnHandle Collection = "webauthn_handle" // user handle (hex) → sub
	CollWebAuthnCreds  Collection = "webauthn_creds"  // credential ID (hex) → sub
	CollExpiry         Collection = "expiry"          // expiry second (hex) + "\x00" + collection + "\x00" + key → ""
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

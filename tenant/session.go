package tenant

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// SSO sessions: a host-only cookie in the browser holds a random token; the
// store keeps only its SHA-256, so a copy of the database does not give
// away live sessions. tenant/auth starts a session in the transaction that
// finishes a sign-in; the provider reads and ends them.

// SessionTTL matches Cognito's managed login session cookie.
const SessionTTL = time.Hour

const (
	prefixSession     = "s:"
	prefixUserSession = "u:" // u:<sub>:<session id> → "", to end a user's sessions
)

// The admin console's sessions (ui/console) live beside these: a record
// under ConsoleSessionPrefix + id, with the user's sub, and an index entry
// UserConsoleSessionPrefix + sub + ":" + id → "" written with it, so that
// EndUserSessions ends them with the rest and the sweep deletes the entry
// with its session.
const (
	ConsoleSessionPrefix     = "console:"
	UserConsoleSessionPrefix = "cu:"
)

// NewSessionToken makes the random token of a new session, which the
// browser's cookie holds.
func NewSessionToken() string { return NewSecret(32) }

// SessionID is the ID (Session.ID) of the session a cookie's token names:
// the store keeps the token's hash only.
func SessionID(token string) string { return HashSecret(token) }

// StartSession records, inside tx, a new session of sub under token (from
// NewSessionToken).
func StartSession(tx Tx, tenantID, token, sub string, amr []string, authTime, now time.Time, ttl time.Duration) error {
	sess := Session{ID: SessionID(token), Sub: sub, AMR: slices.Clone(amr), AuthTime: authTime,
		CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := PutExpiring(tx, CollSessions, tenantID, prefixSession+sess.ID, sess, sess.ExpiresAt); err != nil {
		return err
	}
	return tx.Put(CollSessions, tenantID, prefixUserSession+sub+":"+sess.ID, []byte{})
}

// SessionByToken returns the session a cookie's token names, expired or
// not: the caller decides with its clock.
func SessionByToken(tx Tx, tenantID, token string) (Session, error) {
	return SessionByID(tx, tenantID, SessionID(token))
}

// SessionByID returns the session with ID id, expired or not.
func SessionByID(tx Tx, tenantID, id string) (Session, error) {
	return GetJSON[Session](tx, CollSessions, tenantID, prefixSession+id)
}

// MarkFactorSetUp records, inside tx, that a second factor was set up in
// sub's session with ID id (Session.FactorSetUp). The token, the sign-in
// time, the AMR and the expiry stay as they are. An unknown session, or
// another user's, is ErrNotFound.
func MarkFactorSetUp(tx Tx, tenantID, id, sub string) error {
	sess, err := SessionByID(tx, tenantID, id)
	if err != nil {
		return err
	}
	if sess.Sub != sub {
		return fmt.Errorf("%w: the session is another user's", ErrNotFound)
	}
	sess.FactorSetUp = true
	// The same key and ExpiresAt: the expiry index entry StartSession
	// wrote still holds.
	return PutJSON(tx, CollSessions, tenantID, prefixSession+sess.ID, sess)
}

// EndSession deletes the session a cookie's token names; an unknown token
// is not an error.
func EndSession(tx Tx, tenantID, token string) error {
	id := SessionID(token)
	sess, err := SessionByID(tx, tenantID, id)
	if errors.Is(err, ErrNotFound) {
		return nil // already gone
	}
	if err != nil {
		return err
	}
	if err := tx.Delete(CollSessions, tenantID, prefixUserSession+sess.Sub+":"+id); err != nil {
		return err
	}
	return tx.Delete(CollSessions, tenantID, prefixSession+id)
}

// EndUserSessions deletes every session of a user at a tenant: single
// sign-on sessions and admin console sessions alike.
func EndUserSessions(tx Tx, tenantID, sub string) error {
	for _, o := range ownedIndexes() {
		if o.c != CollSessions {
			continue
		}
		var ids []string
		prefix := o.indexPrefix + sub + ":"
		err := tx.Scan(CollSessions, tenantID, prefix, "", func(key string, _ []byte) bool {
			ids = append(ids, key[len(prefix):])
			return true
		})
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := tx.Delete(CollSessions, tenantID, o.targetPrefix+id); err != nil {
				return err
			}
			if err := tx.Delete(CollSessions, tenantID, prefix+id); err != nil {
				return err
			}
		}
	}
	return nil
}

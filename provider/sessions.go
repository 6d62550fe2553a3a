package provider

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// SSO sessions: a host-only cookie holds a random value; the store keeps its
// SHA-256, so a copy of the database does not give away live sessions.

const (
	sessionCookie = "cognate_session"
	bindingCookie = "cognate_login"
	// SessionTTL matches Cognito's managed login session cookie.
	SessionTTL = time.Hour
)

const (
	prefixSession     = "s:"
	prefixUserSession = "u:" // u:<sub>:<session hash> → ""
)

// StartSession records a signed-in browser and sets its cookie.
func (p *Provider) StartSession(ctx context.Context, w http.ResponseWriter, slug, sub string, amr []string, authTime time.Time) error {
	value := tenant.NewSecret(32)
	now := p.now()
	sess := tenant.Session{ID: tenant.HashSecret(value), Sub: sub, AMR: slices.Clone(amr), AuthTime: authTime,
		CreatedAt: now, ExpiresAt: now.Add(SessionTTL)}
	// Batch: concurrent sign-ins share one commit; the writes are plain puts.
	err := p.store.Batch(ctx, func(tx tenant.Tx) error {
		if err := tenant.PutJSON(tx, tenant.CollSessions, slug, prefixSession+sess.ID, sess); err != nil {
			return err
		}
		return tx.Put(tenant.CollSessions, slug, prefixUserSession+sub+":"+sess.ID, []byte{})
	})
	if err != nil {
		return err
	}
	http.SetCookie(w, p.cookie(sessionCookie, value, SessionTTL))
	return nil
}

// cookie builds a host-only cookie (no Domain attribute, so one tenant's
// cookie never reaches another subdomain), HttpOnly, Secure over https, and
// SameSite=Lax so it still comes along when a relying party sends the
// browser to /oauth2/authorize.
func (p *Provider) cookie(name, value string, ttl time.Duration) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(ttl.Seconds()),
		HttpOnly: true, Secure: p.hosts.Secure(), SameSite: http.SameSiteLaxMode}
}

// Session returns the live SSO session of the request's browser at slug.
func (p *Provider) Session(r *http.Request, slug string) (tenant.Session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return tenant.Session{}, false
	}
	var sess tenant.Session
	var user tenant.User
	err = p.store.View(r.Context(), func(tx tenant.Tx) error {
		var err error
		if sess, err = tenant.GetJSON[tenant.Session](tx, tenant.CollSessions, slug, prefixSession+tenant.HashSecret(c.Value)); err != nil {
			return err
		}
		user, err = tenant.GetUser(tx, slug, sess.Sub)
		return err
	})
	if err != nil || !p.now().Before(sess.ExpiresAt) || !user.Enabled {
		return tenant.Session{}, false
	}
	return sess, true
}

// EndSession deletes the browser's session at slug and clears its cookie.
func (p *Provider) EndSession(w http.ResponseWriter, r *http.Request, slug string) {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		id := tenant.HashSecret(c.Value)
		err := p.store.Update(r.Context(), func(tx tenant.Tx) error {
			sess, err := tenant.GetJSON[tenant.Session](tx, tenant.CollSessions, slug, prefixSession+id)
			if err != nil {
				return nil // already gone
			}
			if err := tx.Delete(tenant.CollSessions, slug, prefixUserSession+sess.Sub+":"+id); err != nil {
				return err
			}
			return tx.Delete(tenant.CollSessions, slug, prefixSession+id)
		})
		if err != nil {
			p.logger.ErrorContext(r.Context(), "end session", "tenant", slug, "err", err)
		}
	}
	http.SetCookie(w, p.cookie(sessionCookie, "", -time.Second))
}

// deleteUserSessions ends every session of a user at a tenant.
func deleteUserSessions(tx tenant.Tx, slug, sub string) error {
	var ids []string
	prefix := prefixUserSession + sub + ":"
	err := tx.Scan(tenant.CollSessions, slug, prefix, "", func(key string, _ []byte) bool {
		ids = append(ids, key[len(prefix):])
		return true
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := tx.Delete(tenant.CollSessions, slug, prefixSession+id); err != nil {
			return err
		}
		if err := tx.Delete(tenant.CollSessions, slug, prefix+id); err != nil {
			return err
		}
	}
	return nil
}

package ui_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/ui/uitest"
)

// A logout that does not say where it comes from (a bare /logout, which any
// page on the web can send a browser to, the session cookie going along)
// asks the person first. The confirmation page's form is protected as
// every form of the pages is: a post without the browser's form token, or
// from another site, or from another tenant's host, ends nothing. The
// person's own confirmation ends the session and shows the signed-out page.
func TestLogoutConfirmation(t *testing.T) {
	s := newStack(t, stackOptions{})
	ann := s.addUserAt(t, "ann")
	b := newBrowser(t)
	b.signedInAt(s, ann.Sub, time.Now())
	token := sessionToken(t, b, s)

	first := b.Get(s.tenantURL + "/logout")
	if first.Status != http.StatusFound || first.Location != s.tenantURL+"/logout/confirm" {
		t.Fatalf("bare /logout: status %d, Location %q; want the confirmation page", first.Status, first.Location)
	}
	confirm := b.Follow(first)
	if confirm.Status != http.StatusOK {
		t.Fatalf("confirmation page: status %d:\n%s", confirm.Status, confirm.Body)
	}
	uitest.MustContain(t, confirm, "<h1>Sign out of Acme BV?</h1>", "You are signed in as ann.", `name="csrf_token"`)
	if !sessionLives(t, s, token) {
		t.Fatal("the bare /logout ended the session")
	}

	form := uitest.HiddenFields(confirm.Body)
	forged := []struct {
		name   string
		form   url.Values
		header []string
		want   string
	}{
		{"no form token", url.Values{}, nil, "This form has expired."},
		{"a guessed form token", url.Values{"csrf_token": {strings.Repeat("A", 26)}}, nil, "This form has expired."},
		{"from another site", form, []string{"Sec-Fetch-Site", "cross-site"}, "This form was sent from another site"},
		{"from another tenant's host", form, []string{"Sec-Fetch-Site", "same-site"}, "This form was sent from another site"},
		{"from another origin, says Origin", form, []string{"Origin", "http://evil.localhost"}, "This form was sent from another site"},
	}
	for _, tt := range forged {
		t.Run(tt.name, func(t *testing.T) {
			p := b.Post(s.tenantURL+"/logout/confirm", tt.form, tt.header...)
			if p.Status != http.StatusForbidden {
				t.Fatalf("status %d, want 403:\n%s", p.Status, p.Body)
			}
			uitest.MustContain(t, p, tt.want)
			if !sessionLives(t, s, token) {
				t.Fatal("a forged post ended the session")
			}
		})
	}

	out := b.Submit(confirm, "/logout/confirm", nil)
	if out.Status != http.StatusSeeOther || out.Location != s.tenantURL+"/logged-out" {
		t.Fatalf("confirmed: status %d, Location %q; want the signed-out page", out.Status, out.Location)
	}
	uitest.MustContain(t, b.Follow(out), "You are signed out", `<a href="/sign-in">Sign in again</a>`)
	if sessionLives(t, s, token) {
		t.Fatal("the confirmed logout left the session")
	}
	// Signed out, the confirmation page has nothing to ask.
	if p := b.Get(s.tenantURL + "/logout/confirm"); p.Status != http.StatusSeeOther || p.Location != s.tenantURL+"/logged-out" {
		t.Errorf("confirmation page without a session: status %d, Location %q; want the signed-out page", p.Status, p.Location)
	}
	if p := b.Get(s.tenantURL + "/logout"); p.Status != http.StatusFound || p.Location != s.tenantURL+"/logged-out" {
		t.Errorf("/logout without a session: status %d, Location %q; want the signed-out page", p.Status, p.Location)
	}

	t.Run("in Dutch", func(t *testing.T) {
		b := newBrowser(t)
		b.Header.Set("Accept-Language", "nl")
		b.signedInAt(s, ann.Sub, time.Now())
		p := b.Follow(b.Get(s.tenantURL + "/logout"))
		uitest.MustContain(t, p, "<h1>Uitloggen bij Acme BV?</h1>", "U bent ingelogd als ann.", ">Uitloggen</button>", "Ingelogd blijven")
		uitest.MustContain(t, b.Follow(b.Submit(p, "/logout/confirm", nil)), "U bent uitgelogd")
	})
}

// Cognito's /logout?client_id&redirect_uri&response_type form ends the
// session and starts a new sign-in: the login page, not the session's
// silent way through.
func TestLogoutToSignInAgain(t *testing.T) {
	s := newStack(t, stackOptions{})
	ann := s.addUserAt(t, "ann")
	b := newBrowser(t)
	b.signedInAt(s, ann.Sub, time.Now())
	token := sessionToken(t, b, s)
	q := url.Values{"client_id": {s.clientID}, "redirect_uri": {s.rpURL + "/callback"}, "response_type": {"code"},
		"state": {"st"}, "scope": {"openid"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
		"code_challenge_method": {"S256"}}
	p := b.Follow(b.Get(s.tenantURL + "/logout?" + q.Encode()))
	if p.Status != http.StatusOK || p.URL.Path != "/login" {
		t.Fatalf("status %d at %s, want the login page:\n%s", p.Status, p.URL, p.Body)
	}
	uitest.MustContain(t, p, `autocomplete="username"`)
	if sessionLives(t, s, token) {
		t.Fatal("the session lives on")
	}
}

// A session whose user is deleted or disabled is nobody signed in, not a
// fault: the logout confirmation has nothing to ask and shows the
// signed-out page, the welcome page offers to sign in, the account page
// sends the browser to sign in. The user is changed in the store directly,
// as a session can outlive it only in a race (deleting or disabling a user
// through the service ends their sessions): what is checked is the
// provider's reading of the session with its user (provider.Session),
// which the pages rely on rather than read the user again.
func TestSessionOfAGoneUserIsSignedOut(t *testing.T) {
	s := newStack(t, stackOptions{})
	gone := map[string]func(tx tenant.Tx, sub string) error{
		"deleted": func(tx tenant.Tx, sub string) error { return tenant.DeleteUser(tx, s.slug(), sub) },
		"disabled": func(tx tenant.Tx, sub string) error {
			u, err := tenant.GetUser(tx, s.slug(), sub)
			if err != nil {
				return err
			}
			u.Enabled = false
			return tenant.PutJSON(tx, tenant.CollUsers, s.slug(), sub, u)
		},
	}
	pages := []struct {
		name, path   string
		status       int
		location     string
		wantContains string
	}{
		{"logout confirmation", "/logout/confirm", http.StatusSeeOther, "/logged-out", ""},
		{"welcome page", tenant.PathWelcome, http.StatusOK, "", "You are not signed in"},
		{"account page", "/account", http.StatusSeeOther, "/login?authRequestID=account", ""},
	}
	for how, makeGone := range gone {
		for _, tt := range pages {
			t.Run(how+"/"+tt.name, func(t *testing.T) {
				u := s.addUserAt(t, "ann-"+how+"-"+strings.ReplaceAll(tt.name, " ", "-"))
				b := newBrowser(t)
				b.signedInAt(s, u.Sub, time.Now())
				if err := s.store.Flush(t.Context()); err != nil {
					t.Fatal(err)
				}
				if err := s.store.Update(t.Context(), func(tx tenant.Tx) error { return makeGone(tx, u.Sub) }); err != nil {
					t.Fatal(err)
				}
				p := b.Get(s.tenantURL + tt.path)
				if p.Status != tt.status {
					t.Fatalf("status %d, want %d:\n%s", p.Status, tt.status, p.Body)
				}
				if tt.location != "" && p.Location != s.tenantURL+tt.location {
					t.Errorf("Location %q, want %q", p.Location, s.tenantURL+tt.location)
				}
				if tt.wantContains != "" {
					uitest.MustContain(t, p, tt.wantContains)
				}
			})
		}
	}
}

// A store that cannot read the browser's session leaves it unknown whether
// the person is signed in: the logout confirmation answers with the error
// page (500) and one ERROR line, not the signed-out page, which would tell
// the person they are signed out while their session lives on.
func TestLogoutConfirmationStoreFailure(t *testing.T) {
	log := &uitest.Log{}
	var store *sessionStoreFails
	s := newStack(t, stackOptions{log: log, providerStore: func(real tenant.Store) tenant.Store {
		store = &sessionStoreFails{Store: real}
		return store
	}})
	ann := s.addUserAt(t, "ann")
	b := newBrowser(t)
	b.signedInAt(s, ann.Sub, time.Now())
	token := sessionToken(t, b, s)
	if err := s.store.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}

	mark := log.Mark()
	store.reads.Store(true)
	p := b.Get(s.tenantURL + "/logout/confirm")
	store.reads.Store(false)
	if p.Status != http.StatusInternalServerError {
		t.Fatalf("status %d, Location %q, want 500:\n%s", p.Status, p.Location, p.Body)
	}
	uitest.MustContain(t, p, "Something went wrong on our side. Try again in a moment.")
	uitest.MustNotContain(t, p, "You are signed out")
	lines := log.Since(mark)
	if len(lines) != 1 || !strings.Contains(lines[0], "level=ERROR") || !strings.Contains(lines[0], errSessionRead.Error()) {
		t.Errorf("logged %q, want one ERROR line with the store's error", lines)
	}
	if !sessionLives(t, s, token) {
		t.Fatal("the session ended")
	}
	// The store readable again, the person is asked.
	confirm := b.Get(s.tenantURL + "/logout/confirm")
	uitest.MustContain(t, confirm, "You are signed in as ann.")

	// A session the store cannot delete is not ended: the error page, not
	// the signed-out page, and the browser keeps its cookie.
	mark = log.Mark()
	store.deletes.Store(true)
	p = b.Post(s.tenantURL+"/logout/confirm", url.Values{"csrf_token": {uitest.HiddenField(t, confirm, "csrf_token")}})
	store.deletes.Store(false)
	if p.Status != http.StatusServiceUnavailable {
		t.Fatalf("confirmed while the store fails: status %d, Location %q, want 503:\n%s", p.Status, p.Location, p.Body)
	}
	uitest.MustContain(t, p, "Something went wrong on our side, so you have not been signed out. Try again in a moment.")
	uitest.MustNotContain(t, p, "You are signed out")
	lines = log.Since(mark)
	if len(lines) != 1 || !strings.Contains(lines[0], "level=ERROR") || !strings.Contains(lines[0], errSessionWrite.Error()) {
		t.Errorf("logged %q, want one ERROR line with the store's error", lines)
	}
	if !sessionLives(t, s, token) {
		t.Fatal("the session ended")
	}
	uitest.MustContain(t, b.Get(s.tenantURL+"/logout/confirm"), "You are signed in as ann.")
}

// errSessionRead and errSessionWrite are the failures of a sessionStoreFails.
var (
	errSessionRead  = errors.New("read /var/lib/cognate/cognate.db: input/output error")
	errSessionWrite = errors.New("write /var/lib/cognate/cognate.db: no space left on device")
)

// sessionStoreFails is a store whose reads of SSO sessions fail while
// reads is set, and whose deletions of them while deletes is, as those of
// a broken or full disk do.
type sessionStoreFails struct {
	tenant.Store
	reads, deletes atomic.Bool
}

func (s *sessionStoreFails) View(ctx context.Context, fn func(tenant.Tx) error) error {
	return s.Store.View(ctx, func(tx tenant.Tx) error { return fn(sessionStoreFailsTx{tx, s}) })
}

func (s *sessionStoreFails) Update(ctx context.Context, fn func(tenant.Tx) error) error {
	return s.Store.Update(ctx, func(tx tenant.Tx) error { return fn(sessionStoreFailsTx{tx, s}) })
}

type sessionStoreFailsTx struct {
	tenant.Tx
	s *sessionStoreFails
}

func (tx sessionStoreFailsTx) Get(c tenant.Collection, tenantID, key string) ([]byte, error) {
	if c == tenant.CollSessions && tx.s.reads.Load() {
		return nil, errSessionRead
	}
	return tx.Tx.Get(c, tenantID, key)
}

func (tx sessionStoreFailsTx) Delete(c tenant.Collection, tenantID, key string) error {
	if c == tenant.CollSessions && tx.s.deletes.Load() {
		return errSessionWrite
	}
	return tx.Tx.Delete(c, tenantID, key)
}

package ui_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestPromptAndMaxAge checks how an SSO session answers prompt=login,
// prompt=none and max_age (OpenID Connect Core §3.1.2.1).
func TestPromptAndMaxAge(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.addUser(t, "ann", goodPassword, false)
	b := newBrowser(t)
	first := rpClaims(t, b.Follow(b.submit(s.startLogin(t, b), map[string]string{"login": "ann", "password": goodPassword})))

	loginPage := func(query string) bool {
		t.Helper()
		p := b.Follow(b.Get(s.rpURL + "/start" + query))
		return p.Status == http.StatusOK && strings.Contains(p.URL.Path, "/login")
	}
	if loginPage("") {
		t.Error("a live session should sign in silently")
	}
	if loginPage("?max_age=3600") {
		t.Error("max_age=3600 with a fresh session should sign in silently")
	}
	if !loginPage("?prompt=login") {
		t.Error("prompt=login must show the login page despite the session")
	}
	if !loginPage("?max_age=0") {
		t.Error("max_age=0 must show the login page: every session is older than that")
	}
	// prompt=none with a session: silent, same authentication.
	again := rpClaims(t, b.Follow(b.Get(s.rpURL+"/start?prompt=none")))
	if again["auth_time"] != first["auth_time"] {
		t.Errorf("prompt=none changed auth_time: %v → %v", first["auth_time"], again["auth_time"])
	}
	// prompt=none without a session: login_required back at the app.
	fresh := newBrowser(t)
	p := fresh.Follow(fresh.Get(s.rpURL + "/start?prompt=none"))
	if !strings.Contains(p.Body, "login_required") {
		t.Errorf("prompt=none without a session: %d %s", p.Status, p.Body)
	}
}

package provider_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// Over https the session and sign-in cookies are __Host- cookies, which no
// other host (a sibling tenant, the apex) can set; one planted under the
// plain name is ignored. Over plain http (development) the prefix cannot be
// used, and the plain names stay (the other tests of this package).
func TestCookiesOverHTTPS(t *testing.T) {
	h := newHarnessOver(t, "https", nil)
	f := h.fixture("acme", false)
	cfg := h.oauthConfig(f)
	verifier := oauth2.GenerateVerifier()
	loc := h.location(h.get(cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier))), http.StatusFound)
	id := loc.Query().Get("authRequestID")

	signIn, err := h.http.PostForm(h.issuer("acme")+"/login", url.Values{"authRequestID": {id}, "username": {f.user.Username}, "password": {f.password}})
	if err != nil {
		t.Fatal(err)
	}
	callback := h.location(signIn, http.StatusSeeOther)
	set := map[string]*http.Cookie{}
	for _, c := range signIn.Cookies() {
		set[c.Name] = c
	}
	for _, name := range []string{"__Host-cognate_session", "__Host-cognate_login"} {
		c := set[name]
		if c == nil {
			t.Fatalf("the sign-in set %v, no %s", signIn.Header.Values("Set-Cookie"), name)
		}
		if c.Path != "/" || c.Domain != "" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Errorf("%s: %s", name, c)
		}
	}
	if len(set) != 2 {
		t.Errorf("cookies set: %v", signIn.Header.Values("Set-Cookie"))
	}
	token, binding := set["__Host-cognate_session"].Value, set["__Host-cognate_login"].Value

	// The session is found under its own name only.
	session := func(name string) bool {
		req, _ := http.NewRequest(http.MethodGet, h.issuer("acme")+"/", nil)
		req.AddCookie(&http.Cookie{Name: name, Value: token})
		_, _, ok := h.prov.Session(req, "acme")
		return ok
	}
	if !session("__Host-cognate_session") {
		t.Error("the session cookie does not find the session")
	}
	if session("cognate_session") {
		t.Error("a session cookie under the plain name, which a sibling host can plant, is taken over https")
	}

	// The callback hands the code only to the browser the binding cookie
	// names, and a binding under the plain name names none.
	bare := &http.Client{Transport: h.http.Transport, CheckRedirect: h.http.CheckRedirect}
	visit := func(name string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, callback.String(), nil)
		req.AddCookie(&http.Cookie{Name: name, Value: binding})
		resp, err := bare.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := visit("cognate_login"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("callback with the binding under the plain name: %d, want 400", resp.StatusCode)
	}
	back := h.location(visit("__Host-cognate_login"), http.StatusFound)
	if back.Query().Get("code") == "" || !strings.HasPrefix(back.String(), redirectURI) {
		t.Errorf("callback with the binding: to %s", back)
	}

	// Signing out clears the cookie under the name it was set with.
	req, _ := http.NewRequest(http.MethodGet, h.issuer("acme")+"/", nil)
	req.AddCookie(&http.Cookie{Name: "__Host-cognate_session", Value: token})
	rec := httptest.NewRecorder()
	h.prov.EndSession(rec, req, "acme")
	if got := rec.Header().Get("Set-Cookie"); !strings.HasPrefix(got, "__Host-cognate_session=;") || !strings.Contains(got, "Max-Age=0") {
		t.Errorf("sign-out sets %q", got)
	}
	if session("__Host-cognate_session") {
		t.Error("the session outlived the sign-out")
	}
}

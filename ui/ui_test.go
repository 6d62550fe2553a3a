package ui_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/ui"
	"github.com/cognate-idp/cognate/ui/uitest"
)

func TestLoginPage(t *testing.T) {
	s := newStack(t, stackOptions{})
	b := newBrowser(t)
	p := s.startLogin(t, b)

	uitest.MustContain(t, p, "Sign in to Acme BV", "to continue to Example App",
		`autocomplete="username"`, `autocomplete="current-password"`, `name="csrf_token"`, `<html lang="en">`)
	if got := p.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	csp := p.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
		"frame-ancestors 'none'", "form-action 'self' " + s.tenantURL + " " + s.rpURL} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	var csrfCookie *http.Cookie
	for _, c := range b.Client.Jar.Cookies(p.URL) {
		if c.Name == "cognate_csrf" {
			csrfCookie = c
		}
	}
	if csrfCookie == nil || csrfCookie.Value != uitest.HiddenFields(p.Body).Get("csrf_token") {
		t.Errorf("the form token is not the cookie's: cookie %v, field %q", csrfCookie, uitest.HiddenFields(p.Body).Get("csrf_token"))
	}
}

func TestLoginHintPrefills(t *testing.T) {
	s := newStack(t, stackOptions{})
	b := newBrowser(t)
	start := b.Get(s.rpURL + "/start")
	u, _ := url.Parse(start.Location)
	q := u.Query()
	q.Set("login_hint", "ann@example.com")
	u.RawQuery = q.Encode()
	p := b.Follow(b.Get(u.String()))
	uitest.MustContain(t, p, `value="ann@example.com"`)
}

// A wrong password and an unknown name must read exactly alike, and so must
// the lockout that follows either.
func TestRefusalsAreIndistinguishable(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.addUser(t, "ann", goodPassword, false)
	b := newBrowser(t)
	login := s.startLogin(t, b)

	attempt := func(name, pw string) page {
		return b.submit(login, map[string]string{"login": name, "password": pw})
	}
	normalize := func(p page, name string) string {
		body := regexp.MustCompile(`name="csrf_token" value="[^"]*"`).ReplaceAllString(p.Body, `name="csrf_token" value=""`)
		return strings.ReplaceAll(body, `value="`+name+`"`, `value="NAME"`)
	}

	wrong, unknown := attempt("ann", "Wrong-Pass-1!"), attempt("nobody", "Wrong-Pass-1!")
	for _, p := range []page{wrong, unknown} {
		if p.Status != http.StatusUnprocessableEntity {
			t.Errorf("status %d, want 422", p.Status)
		}
		uitest.MustContain(t, p, "Incorrect username or password.")
	}
	if normalize(wrong, "ann") != normalize(unknown, "nobody") {
		t.Errorf("wrong password and unknown user differ:\n%s\n----\n%s", wrong.Body, unknown.Body)
	}

	// Default policy: five failures lock the name, existing or not, and the
	// sixth attempt reads "locked".
	for range 4 {
		attempt("ann", "Wrong-Pass-1!")
		attempt("nobody", "Wrong-Pass-1!")
	}
	lockedAnn, lockedNobody := attempt("ann", "Wrong-Pass-1!"), attempt("nobody", "Wrong-Pass-1!")
	for _, p := range []page{lockedAnn, lockedNobody} {
		if p.Status != http.StatusTooManyRequests {
			t.Errorf("status %d, want 429", p.Status)
		}
		uitest.MustContain(t, p, "Too many failed attempts. Try again in a few minutes.")
	}
	if normalize(lockedAnn, "ann") != normalize(lockedNobody, "nobody") {
		t.Errorf("lockout differs for existing and unknown names:\n%s\n----\n%s", lockedAnn.Body, lockedNobody.Body)
	}
	// Locked means locked: the right password does not get through either.
	if p := attempt("ann", goodPassword); p.Status != http.StatusTooManyRequests {
		t.Errorf("right password while locked: status %d, want 429", p.Status)
	}
}

// A form without the browser's token reads as stale, one from another
// site as refused for that: neither blames the other cause.
func TestCSRF(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.addUser(t, "ann", goodPassword, false)
	const (
		expired   = "This form has expired. Go back, reload the page and try again."
		crossSite = "This form was sent from another site, so it was refused."
	)
	tests := []struct {
		name   string
		mangle func(b *browser, form url.Values) []string // returns extra headers
		want   string
	}{
		{"missing token", func(_ *browser, f url.Values) []string { f.Del("csrf_token"); return nil }, expired},
		{"wrong token", func(_ *browser, f url.Values) []string { f.Set("csrf_token", "AAAAAAAAAAAAAAAAAAAAAAAAAA"); return nil }, expired},
		{"no cookie", func(b *browser, _ url.Values) []string {
			jar := b.Client.Jar
			u, _ := url.Parse(s.tenantURL)
			jar.SetCookies(u, []*http.Cookie{{Name: "cognate_csrf", Value: "", MaxAge: -1, Path: "/"}})
			return nil
		}, expired},
		{"cross-site fetch", func(*browser, url.Values) []string { return []string{"Sec-Fetch-Site", "cross-site"} }, crossSite},
		{"another tenant", func(*browser, url.Values) []string { return []string{"Sec-Fetch-Site", "same-site"} }, crossSite},
		{"foreign origin", func(*browser, url.Values) []string { return []string{"Origin", "http://evil.localhost"} }, crossSite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t)
			login := s.startLogin(t, b)
			form := uitest.HiddenFields(login.Body)
			form.Set("login", "ann")
			form.Set("password", goodPassword)
			headers := tt.mangle(b, form)
			p := b.Post(s.tenantURL+"/login", form, headers...)
			if p.Status != http.StatusForbidden {
				t.Fatalf("status %d, want 403:\n%s", p.Status, p.Body)
			}
			uitest.MustContain(t, p, tt.want)
		})
	}

	t.Run("same origin passes", func(t *testing.T) {
		b := newBrowser(t)
		login := s.startLogin(t, b)
		form := uitest.HiddenFields(login.Body)
		form.Set("login", "ann")
		form.Set("password", goodPassword)
		p := b.Post(s.tenantURL+"/login", form, "Sec-Fetch-Site", "same-origin", "Origin", "null")
		if p.Status != http.StatusSeeOther {
			t.Fatalf("status %d, want 303:\n%s", p.Status, p.Body)
		}
	})
}

// The first sign-in with a temporary password: the new-password page, its
// refusals, then the relying party's callback and, later, SSO.
func TestTemporaryPasswordFlow(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.addUser(t, "ann", tempPassword, true)
	b := newBrowser(t)
	login := s.startLogin(t, b)

	np := b.submit(login, map[string]string{"login": "ann", "password": tempPassword})
	if np.Status != http.StatusOK {
		t.Fatalf("status %d, want the new-password page:\n%s", np.Status, np.Body)
	}
	uitest.MustContain(t, np, "Choose a new password", "Account: ann", `autocomplete="new-password"`, `name="confirm_password"`,
		"at least 8 characters", "an uppercase letter", "a lowercase letter", "a number", "a symbol",
		"You have 10 minutes to finish this step.") // the step's time limit, said (WCAG 2.2.1)
	if uitest.HiddenFields(np.Body).Get("session") == "" {
		t.Fatal("the new-password form carries no challenge session")
	}

	refusals := []struct {
		name, newPw, confirm string
		want                 []string
		notWant              []string
	}{
		{"mismatch", goodPassword, goodPassword + "x", []string{"The two passwords are not the same."}, nil},
		{"weak", "short", "short", []string{"does not meet these requirements", "at least 8 characters",
			"an uppercase letter", "a number", "a symbol"}, []string{"<li>a lowercase letter</li>"}},
		{"unchanged", tempPassword, tempPassword, []string{"Choose a password that differs from your temporary password."}, nil},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			p := b.submit(np, map[string]string{"new_password": r.newPw, "confirm_password": r.confirm})
			if p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422:\n%s", p.Status, p.Body)
			}
			uitest.MustContain(t, p, r.want...)
			alert := p.Body[strings.Index(p.Body, `role="alert"`):strings.Index(p.Body, "</form>")]
			for _, nw := range r.notWant {
				if strings.Contains(alert[:strings.Index(alert, "</div>")], nw) {
					t.Errorf("the refusal lists %q, which the password has", nw)
				}
			}
			if strings.Contains(p.Body, r.newPw) {
				t.Error("the page echoes the password")
			}
		})
	}

	done := b.submit(np, map[string]string{"new_password": goodPassword, "confirm_password": goodPassword})
	if done.Status != http.StatusSeeOther {
		t.Fatalf("status %d, want 303 to the callback:\n%s", done.Status, done.Body)
	}
	first := rpClaims(t, b.Follow(done))
	if first["cognito:username"] != "ann" || first["email"] != "ann@example.com" || first["token_use"] != "id" {
		t.Errorf("claims: %v", first)
	}
	if amr, _ := first["amr"].([]any); !slices.Contains(amr, any("pwd")) {
		t.Errorf("amr = %v, want pwd", first["amr"])
	}

	// The same browser signs in again through its SSO session, silently.
	again := rpClaims(t, b.Follow(b.Get(s.rpURL+"/start")))
	if again["sub"] != first["sub"] || again["auth_time"] != first["auth_time"] {
		t.Errorf("SSO sign-in: sub %v auth_time %v, want %v %v", again["sub"], again["auth_time"], first["sub"], first["auth_time"])
	}

	// The new password now works from a fresh browser.
	b2 := newBrowser(t)
	p := b2.submit(s.startLogin(t, b2), map[string]string{"login": "ann", "password": goodPassword})
	rpClaims(t, b2.Follow(p))
}

// rpClaims reads the ID token claims the relying party shows.
func rpClaims(t *testing.T, p page) map[string]any {
	t.Helper()
	m := regexp.MustCompile(`(?s)<pre id="claims">(.*?)</pre>`).FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || m == nil {
		t.Fatalf("want the relying party's claims, got %d at %s:\n%s", p.Status, p.URL, p.Body)
	}
	var claims map[string]any
	if err := json.Unmarshal([]byte(unescape(m[1])), &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func unescape(s string) string {
	return strings.NewReplacer("&#34;", `"`, "&quot;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">", "&#43;", "+", "&amp;", "&").Replace(s)
}

func TestSignInErrors(t *testing.T) {
	s := newStack(t, stackOptions{})
	b := newBrowser(t)

	t.Run("unknown sign-in request", func(t *testing.T) {
		p := b.Get(s.tenantURL + "/login?authRequestID=nope")
		if p.Status != http.StatusBadRequest {
			t.Errorf("status %d, want 400", p.Status)
		}
		uitest.MustContain(t, p, "This sign-in link has expired or has been used already.", `href="/sign-in"`, "Sign in here")
	})

	t.Run("challenge session expired", func(t *testing.T) {
		login := s.startLogin(t, b)
		id := uitest.HiddenFields(login.Body).Get("authRequestID")
		p := b.Post(s.tenantURL+"/login/new-password", url.Values{"csrf_token": {uitest.HiddenFields(login.Body).Get("csrf_token")},
			"authRequestID": {id}, "session": {"bogus"}, "new_password": {goodPassword}, "confirm_password": {goodPassword}})
		if p.Status != http.StatusBadRequest {
			t.Errorf("status %d, want 400", p.Status)
		}
		uitest.MustContain(t, p, "Each step of signing in must be finished within 10 minutes. This one took longer, or it was done already", `href="/login?authRequestID=`+id+`"`)
	})

	t.Run("prompt=none without a session", func(t *testing.T) {
		start := b.Get(s.rpURL + "/start")
		u, _ := url.Parse(start.Location)
		q := u.Query()
		q.Set("prompt", "none")
		u.RawQuery = q.Encode()
		p := b.Follow(b.Get(u.String()))
		uitest.MustContain(t, p, "login_required")
	})

	t.Run("password reset required", func(t *testing.T) {
		u := s.addUser(t, "bob", goodPassword, false)
		err := s.store.Update(t.Context(), func(tx tenant.Tx) error {
			u.Status = tenant.StatusResetRequired
			return tenant.UpdateUser(tx, "acme", u)
		})
		if err != nil {
			t.Fatal(err)
		}
		p := b.submit(s.startLogin(t, b), map[string]string{"login": "bob", "password": goodPassword})
		uitest.MustContain(t, p, "Reset your password", `href="/forgot-password?authRequestID=`)
	})

	t.Run("unknown path", func(t *testing.T) {
		p := b.Get(s.tenantURL + "/no-such-page")
		if p.Status != http.StatusNotFound {
			t.Errorf("status %d, want 404", p.Status)
		}
		uitest.MustContain(t, p, "This page does not exist.")
	})
}

// An organization whose signing key this server cannot open (its server
// key was lost or changed) is unavailable, not unknown: 503 and a page that
// says to try again later, not "no organization here".
// A sign-in page that has no sign-in behind it any more leads somewhere:
// a bookmarked /login to the organization's own sign-in, a finished or
// expired sign-in (Back after signing in) to a page that links there, and
// a new-password form sent again after it succeeded to a page that says
// the password was saved, not that the link expired.
func TestDeadEnds(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.addUser(t, "ann", goodPassword, false)

	t.Run("bookmarked sign-in page", func(t *testing.T) {
		p := newBrowser(t).Get(s.tenantURL + "/login")
		if p.Status != http.StatusSeeOther || p.Location != s.tenantURL+tenant.PathSignIn {
			t.Errorf("status %d to %q, want 303 to %s", p.Status, p.Location, tenant.PathSignIn)
		}
	})

	t.Run("back after signing in", func(t *testing.T) {
		b := newBrowser(t)
		login := s.startLogin(t, b)
		rpClaims(t, b.Follow(b.submit(login, map[string]string{"login": "ann", "password": goodPassword})))
		for _, tt := range []struct{ lang, want, link string }{
			{"en", "This sign-in link has expired or has been used already.", "Sign in here"},
			{"nl", "Deze inloglink is verlopen of al gebruikt.", "Hier inloggen"},
		} {
			back := b.Get(login.URL.String(), "Accept-Language", tt.lang)
			if back.Status != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400", tt.lang, back.Status)
			}
			uitest.MustContain(t, back, tt.want, `<a class="button" href="/sign-in">`+tt.link+`</a>`)
			// The link leads on: the session signs the browser in there.
			if welcome := b.Follow(b.Get(s.tenantURL + tenant.PathSignIn)); welcome.URL.Path != tenant.PathWelcome {
				t.Errorf("the link led to %s, want the welcome page", welcome.URL)
			}
		}
	})

	// newPasswordDone signs a new user in with a temporary password and
	// sets the new one: the form, and the answer to it.
	newPasswordDone := func(t *testing.T, b *browser, login string) (form, done page) {
		s.addUser(t, login, tempPassword, true)
		form = b.submit(s.startLogin(t, b), map[string]string{"login": login, "password": tempPassword})
		done = b.submit(form, map[string]string{"new_password": goodPassword, "confirm_password": goodPassword, "username": login})
		if done.Status != http.StatusSeeOther {
			t.Fatalf("new password: status %d:\n%s", done.Status, done.Body)
		}
		return form, done
	}
	t.Run("new password sent again, the application signed in", func(t *testing.T) {
		b := newBrowser(t)
		form, done := newPasswordDone(t, b, "bob")
		rpClaims(t, b.Follow(done))
		// As a browser sends it: with the form's username, an input that
		// is hidden, not of type hidden.
		again := b.submit(form, map[string]string{"new_password": goodPassword, "confirm_password": goodPassword, "username": "bob"})
		if again.Status != http.StatusConflict {
			t.Errorf("status %d, want 409", again.Status)
		}
		uitest.MustContain(t, again, "Your new password is saved", "your new password was saved then", `href="/sign-in">Continue`)
		uitest.MustNotContain(t, again, "expired")
	})
	t.Run("new password sent again, at once", func(t *testing.T) {
		b := newBrowser(t)
		form, _ := newPasswordDone(t, b, "cas")
		b.Header.Set("Accept-Language", "nl")
		again := b.submit(form, map[string]string{"new_password": goodPassword, "confirm_password": goodPassword, "username": "cas"})
		id := uitest.HiddenFields(form.Body).Get("authRequestID")
		uitest.MustContain(t, again, "Uw nieuwe wachtwoord is opgeslagen", `href="/login?authRequestID=`+id+`">Doorgaan`)
		// Continuing finishes the sign-in at the application.
		b.Header.Del("Accept-Language")
		rpClaims(t, b.Follow(b.Get(s.tenantURL+"/login?authRequestID="+id)))
	})
	// Sent again with another password (Back, retyped): that password was
	// not saved, so the page says what it says of any late form of a
	// sign-in (the link expired, the sign-in ended), and nothing of
	// whether the password matched.
	const otherPassword = "Other-Passw0rd-9!"
	t.Run("new password sent again with another password, the application signed in", func(t *testing.T) {
		b := newBrowser(t)
		form, done := newPasswordDone(t, b, "eve")
		rpClaims(t, b.Follow(done))
		again := b.submit(form, map[string]string{"new_password": otherPassword, "confirm_password": otherPassword, "username": "eve"})
		if again.Status == http.StatusConflict {
			t.Errorf("status %d, want no 409", again.Status)
		}
		uitest.MustContain(t, again, "This sign-in link has expired or has been used already.")
		uitest.MustNotContain(t, again, "saved")
	})
	t.Run("new password sent again with another password, at once", func(t *testing.T) {
		b := newBrowser(t)
		form, _ := newPasswordDone(t, b, "fay")
		b.Header.Set("Accept-Language", "nl")
		again := b.submit(form, map[string]string{"new_password": otherPassword, "confirm_password": otherPassword, "username": "fay"})
		b.Header.Del("Accept-Language")
		if again.Status == http.StatusConflict {
			t.Errorf("status %d, want no 409", again.Status)
		}
		uitest.MustContain(t, again, "Deze stap duurde langer, of was al gedaan")
		uitest.MustNotContain(t, again, "opgeslagen")
		// The password set first is the one that signs in.
		for pw, want := range map[string]bool{goodPassword: true, otherPassword: false} {
			p := newBrowser(t)
			signedIn := p.submit(s.startLogin(t, p), map[string]string{"login": "fay", "password": pw}).Status == http.StatusSeeOther
			if signedIn != want {
				t.Errorf("signing in with %q: %t, want %t", pw, signedIn, want)
			}
		}
	})
	t.Run("new password sent again by another browser", func(t *testing.T) {
		// Only the browser signed in as the form's user is told; any
		// other reads that the sign-in has ended, as before.
		b := newBrowser(t)
		form, _ := newPasswordDone(t, b, "dan")
		other := newBrowser(t)
		other.Client.Jar.SetCookies(form.URL, []*http.Cookie{{Name: "cognate_csrf", Value: uitest.HiddenField(t, form, "csrf_token"), Path: "/"}})
		again := other.submit(form, map[string]string{"new_password": goodPassword, "confirm_password": goodPassword, "username": "dan"})
		uitest.MustContain(t, again, "This one took longer, or it was done already")
		uitest.MustNotContain(t, again, "saved")
	})
}

func TestOrganizationThatCannotBeServed(t *testing.T) {
	s := newStack(t, stackOptions{})
	b := newBrowser(t)
	s.addUnservableTenant(t, "globex")
	apex, _ := url.Parse(s.base)
	p := b.Get("http://globex." + apex.Host + "/login")
	if p.Status != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", p.Status)
	}
	uitest.MustContain(t, p, "Signing in to this organization is not possible right now")
	if strings.Contains(p.Body, "There is no organization at this address") {
		t.Error("the page says the organization does not exist")
	}
	if got := p.Header.Get("Retry-After"); got == "" {
		t.Error("no Retry-After")
	}
	if css := b.Get("http://globex." + apex.Host + "/static/style.css"); css.Status != http.StatusOK {
		t.Errorf("the page's stylesheet: status %d", css.Status)
	}
}

func TestHostsWithoutOrganization(t *testing.T) {
	s := newStack(t, stackOptions{})
	b := newBrowser(t)
	apex, _ := url.Parse(s.base)
	for _, host := range []string{"nope", "auth", "www"} {
		t.Run(host, func(t *testing.T) {
			p := b.Get("http://" + host + "." + apex.Host + "/login")
			if p.Status != http.StatusNotFound {
				t.Errorf("status %d, want 404", p.Status)
			}
			uitest.MustContain(t, p, "There is no organization at this address", `href="`+s.base+`/"`)
			if strings.Contains(p.Body, "Acme") {
				t.Error("the page names another organization")
			}
			if css := b.Get("http://" + host + "." + apex.Host + "/static/style.css"); css.Status != http.StatusOK {
				t.Errorf("the 404 page's stylesheet: status %d", css.Status)
			}
		})
	}
}

func TestFindOrganization(t *testing.T) {
	s := newStack(t, stackOptions{})
	b := newBrowser(t)
	form := b.Get(s.base + "/")
	uitest.MustContain(t, form, "Find your organization", `id="organization" name="organization" type="text" value="" autocomplete="off"`)

	tests := []struct {
		query  string
		status int
		want   string // Location, or text on the page
	}{
		{"acme", http.StatusSeeOther, s.tenantURL + "/"},
		{"ACME", http.StatusSeeOther, s.tenantURL + "/"},
		{"  Acme bv ", http.StatusSeeOther, s.tenantURL + "/"},
		{"Acme", http.StatusSeeOther, s.tenantURL + "/"},
		{"Globex", http.StatusUnprocessableEntity, "We could not find an organization called “Globex”. Check the spelling or ask your administrator for your organization's sign-in address."},
		{"ann@acme.example", http.StatusOK, "If ann@acme.example has an account at any organization, we have sent it an email"},
		{"ann@", http.StatusUnprocessableEntity, "“ann@” is not an email address."},
		{"", http.StatusUnprocessableEntity, "Type the name of your organization or your email address."},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			p := b.submit(form, map[string]string{"organization": tt.query})
			if p.Status != tt.status {
				t.Fatalf("status %d, want %d:\n%s", p.Status, tt.status, p.Body)
			}
			if tt.status == http.StatusSeeOther {
				if p.Location != tt.want {
					t.Errorf("Location %q, want %q", p.Location, tt.want)
				}
				return
			}
			uitest.MustContain(t, p, tt.want)
		})
	}

	t.Run("tenant start page", func(t *testing.T) {
		p := b.Get(s.tenantURL + "/")
		uitest.MustContain(t, p, "<title>Acme BV</title>", "To use an application, open it", `href="/sign-in"`)
		if strings.Contains(p.Body, "example-rp") {
			t.Error("development help outside development mode")
		}
	})
}

// "Find your organization" finds a name however it is typed (capitals,
// spacing, an accent as a separate mark, direction marks the form drops),
// and never chooses between organizations that share one: tenants named
// before names were kept apart may. It then asks for the short name, and
// names none of them.
func TestFindOrganizationByName(t *testing.T) {
	log := &uitest.Log{}
	s := newStack(t, stackOptions{log: log})
	hostOf := func(slug string) string { return strings.Replace(s.tenantURL, "//acme.", "//"+slug+".", 1) + "/" }
	for slug, name := range map[string]string{"globex": "Globex Corporation", "cafe": "Café Noir", "nbsp": "Nbsp\u00a0Org", "aab": "Aab", "bidi": "Bidi"} {
		if _, err := s.svc.CreateTenant(t.Context(), tenant.NewTenant{Slug: slug, Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	// As stored by versions that took any name: aab took Globex's, and
	// bidi holds a right-to-left override.
	err := s.store.Update(t.Context(), func(tx tenant.Tx) error {
		for slug, name := range map[string]string{"aab": "globex corporation", "bidi": "Evil\u202eCorp"} {
			tn, err := tenant.GetTenant(tx, slug)
			if err != nil {
				return err
			}
			tn.Name = name
			if err := tenant.PutTenant(tx, tn); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	const ambiguous = "More than one organization is called “%s”, so we cannot tell which one is yours. Type your organization's short name instead"
	tests := []struct {
		query  string
		status int
		want   string // Location, or text on the page
	}{
		{"Globex Corporation", http.StatusUnprocessableEntity, fmt.Sprintf(ambiguous, "Globex Corporation")},
		{"GLOBEX  corporation", http.StatusUnprocessableEntity, fmt.Sprintf(ambiguous, "GLOBEX  corporation")},
		{"globex", http.StatusSeeOther, hostOf("globex")},
		{"aab", http.StatusSeeOther, hostOf("aab")},
		{"Cafe\u0301 Noir", http.StatusSeeOther, hostOf("cafe")},
		{"CAFÉ  NOIR", http.StatusSeeOther, hostOf("cafe")},
		{"Cafe Noir", http.StatusUnprocessableEntity, "We could not find an organization called “Cafe Noir”."},
		{"Nbsp Org", http.StatusSeeOther, hostOf("nbsp")},
		{"Evil\u202eCorp", http.StatusSeeOther, hostOf("bidi")},
	}
	b := newBrowser(t)
	form := b.Get(s.base + "/")
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			mark := log.Mark()
			p := b.submit(form, map[string]string{"organization": tt.query})
			if p.Status != tt.status {
				t.Fatalf("status %d, want %d:\n%s", p.Status, tt.status, p.Body)
			}
			if tt.status == http.StatusSeeOther {
				if p.Location != tt.want {
					t.Errorf("Location %q, want %q", p.Location, tt.want)
				}
				return
			}
			uitest.MustContain(t, p, tt.want)
			for _, host := range []string{"aab.", "globex."} {
				if strings.Contains(p.Body, host) {
					t.Errorf("the page names %s", host)
				}
			}
			if lines := log.Since(mark); len(lines) != 1 || !strings.Contains(lines[0], "organization lookup refused") {
				t.Errorf("log lines %q, want one refusal", lines)
			}
		})
	}

	t.Run("Dutch", func(t *testing.T) {
		b := newBrowser(t)
		b.Header.Set("Accept-Language", "nl")
		p := b.submit(b.Get(s.base+"/"), map[string]string{"organization": "Globex Corporation"})
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("status %d, want 422", p.Status)
		}
		uitest.MustContain(t, p, "Er is meer dan één organisatie met de naam “Globex Corporation”", "Typ in plaats daarvan de korte naam van uw organisatie")
	})
}

func TestDutch(t *testing.T) {
	t.Run("browser asks for Dutch", func(t *testing.T) {
		s := newStack(t, stackOptions{})
		s.addUser(t, "ann", goodPassword, false)
		b := newBrowser(t)
		b.Header.Set("Accept-Language", "nl-NL,nl;q=0.9,en;q=0.8")
		login := s.startLogin(t, b)
		uitest.MustContain(t, login, `<html lang="nl">`, "Inloggen bij Acme BV", "Gebruikersnaam of e-mailadres", "Wachtwoord")
		p := b.submit(login, map[string]string{"login": "ann", "password": "Wrong-Pass-1!"})
		uitest.MustContain(t, p, "Gebruikersnaam of wachtwoord onjuist.")
		uitest.MustContain(t, b.Get(s.base+"/"), "Vind uw organisatie")
	})
	t.Run("organization speaks Dutch", func(t *testing.T) {
		s := newStack(t, stackOptions{settings: tenant.Settings{Locale: "nl"}})
		b := newBrowser(t)
		b.Header.Set("Accept-Language", "en-US,en;q=0.9")
		uitest.MustContain(t, s.startLogin(t, b), "Inloggen bij Acme BV")
	})
}

func TestStaticFiles(t *testing.T) {
	s := newStack(t, stackOptions{settings: tenant.Settings{Branding: tenant.Branding{PrimaryColor: "#FC0"}}})
	b := newBrowser(t)
	login := s.startLogin(t, b)
	uitest.MustContain(t, login, "/static/accent-ffcc00.css")

	tests := []struct {
		path, contentType, body string
	}{
		{"/static/style.css", "text/css", "--accent"},
		{"/static/app.js", "text/javascript", "data-reveal"},
		// Yellow is too light for white text or for links on white.
		{"/static/accent-ffcc00.css", "text/css", "--accent:#ffcc00;--on-accent:#18181b;"},
	}
	for _, tt := range tests {
		for _, host := range []string{s.tenantURL, s.base} {
			p := b.Get(host + tt.path)
			if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), tt.contentType) ||
				!strings.Contains(p.Header.Get("Cache-Control"), "max-age=31536000") || !strings.Contains(p.Body, tt.body) {
				t.Errorf("%s%s: %d %q %q %.80q", host, tt.path, p.Status, p.Header.Get("Content-Type"), p.Header.Get("Cache-Control"), p.Body)
			}
		}
	}
	// An unknown file is the page of any unknown address, in the reader's
	// language, not a line of plain English.
	for _, host := range []string{s.tenantURL, s.base} {
		for lang, want := range map[string]string{"en": "This page does not exist.", "nl": "Deze pagina bestaat niet."} {
			p := b.Get(host+"/static/nope.css", "Accept-Language", lang)
			if p.Status != http.StatusNotFound {
				t.Errorf("%s unknown static file: %d", host, p.Status)
			}
			uitest.MustContain(t, p, want, `<html lang="`+lang+`"`)
		}
	}
}

func TestDevMail(t *testing.T) {
	t.Run("development mode", func(t *testing.T) {
		s := newStack(t, stackOptions{dev: true})
		// The demo client's redirect URI is the example RP's.
		demo, _, err := s.svc.CreateClient(t.Context(), "acme", tenant.NewClient{Name: "Demo", Public: true,
			RedirectURIs: []string{ui.DevExampleRPURL + "/callback"}})
		if err != nil {
			t.Fatal(err)
		}
		msg := mail.Message{ID: "m1", To: []string{"ann@example.com"}, Subject: "Welcome to Acme BV",
			Text: "Your temporary password is Temp-Pass-1!", HTML: "<p style=\"color:red\">Welcome</p>"}
		if err := s.devMail.Send(t.Context(), msg); err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t)
		uitest.MustContain(t, b.Get(s.base+"/"), `href="/dev/mail"`)
		list := b.Get(s.base + "/dev/mail")
		uitest.MustContain(t, list, "Welcome to Acme BV", "ann@example.com", `href="/dev/mail/m1"`)
		one := b.Get(s.base + "/dev/mail/m1")
		uitest.MustContain(t, one, "Your temporary password is Temp-Pass-1!", `src="/dev/mail/m1/html"`, "sandbox")
		h := b.Get(s.base + "/dev/mail/m1/html")
		if !strings.Contains(h.Header.Get("Content-Security-Policy"), "sandbox") || h.Body != msg.HTML {
			t.Errorf("HTML part: CSP %q body %q", h.Header.Get("Content-Security-Policy"), h.Body)
		}
		if p := b.Get(s.base + "/dev/mail/gone"); p.Status != http.StatusNotFound {
			t.Errorf("unknown mail: %d", p.Status)
		}
		home := b.Get(s.tenantURL + "/")
		uitest.MustContain(t, home, "go run ./cmd/example-rp --issuer "+s.tenantURL+" --client-id "+demo.ID, `href="http://127.0.0.1:9090/"`)
	})
	t.Run("production", func(t *testing.T) {
		s := newStack(t, stackOptions{})
		b := newBrowser(t)
		if p := b.Get(s.base + "/dev/mail"); p.Status != http.StatusNotFound {
			t.Errorf("/dev/mail outside development mode: %d", p.Status)
		}
	})
}

func TestOversizedForm(t *testing.T) {
	s := newStack(t, stackOptions{})
	b := newBrowser(t)
	login := s.startLogin(t, b)
	form := uitest.HiddenFields(login.Body)
	form.Set("login", "ann")
	form.Set("password", strings.Repeat("x", 32<<10))
	p := b.Post(s.tenantURL+"/login", form)
	if p.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", p.Status)
	}
	uitest.MustContain(t, p, "The form you sent is too large.")
}

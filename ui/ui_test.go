package ui_test

import (
	"encoding/json"
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

func TestCSRF(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.addUser(t, "ann", goodPassword, false)

	tests := []struct {
		name   string
		mangle func(b *browser, form url.Values) []string // returns extra headers
	}{
		{"missing token", func(_ *browser, f url.Values) []string { f.Del("csrf_token"); return nil }},
		{"wrong token", func(_ *browser, f url.Values) []string { f.Set("csrf_token", "AAAAAAAAAAAAAAAAAAAAAAAAAA"); return nil }},
		{"no cookie", func(b *browser, _ url.Values) []string {
			jar := b.Client.Jar
			u, _ := url.Parse(s.tenantURL)
			jar.SetCookies(u, []*http.Cookie{{Name: "cognate_csrf", Value: "", MaxAge: -1, Path: "/"}})
			return nil
		}},
		{"cross-site fetch", func(*browser, url.Values) []string { return []string{"Sec-Fetch-Site", "cross-site"} }},
		{"another tenant", func(*browser, url.Values) []string { return []string{"Sec-Fetch-Site", "same-site"} }},
		{"foreign origin", func(*browser, url.Values) []string { return []string{"Origin", "http://evil.localhost"} }},
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
			uitest.MustContain(t, p, "This form has expired or was sent from another site.")
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
		"at least 8 characters", "an uppercase letter", "a lowercase letter", "a number", "a symbol")
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
		uitest.MustContain(t, p, "This sign-in link has expired. Go back to the application and start again.")
	})

	t.Run("challenge session expired", func(t *testing.T) {
		login := s.startLogin(t, b)
		id := uitest.HiddenFields(login.Body).Get("authRequestID")
		p := b.Post(s.tenantURL+"/login/new-password", url.Values{"csrf_token": {uitest.HiddenFields(login.Body).Get("csrf_token")},
			"authRequestID": {id}, "session": {"bogus"}, "new_password": {goodPassword}, "confirm_password": {goodPassword}})
		if p.Status != http.StatusBadRequest {
			t.Errorf("status %d, want 400", p.Status)
		}
		uitest.MustContain(t, p, "This step was done already, or this sign-in has ended. Start signing in again.", `href="/login?authRequestID=`+id+`"`)
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
	uitest.MustContain(t, form, "Find your organization", `autocomplete="organization"`)

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
	if p := b.Get(s.tenantURL + "/static/nope.css"); p.Status != http.StatusNotFound {
		t.Errorf("unknown static file: %d", p.Status)
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

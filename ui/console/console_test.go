package console_test

import (
	"bytes"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
	"github.com/cognate-idp/cognate/ui/uitest"
)

func TestSignInAndOut(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	p := b.signIn(s, "acme", "boss", adminPassword)
	if p.Status != http.StatusOK || p.URL.Path != "/admin/users" {
		t.Fatalf("after sign-in: %d at %s:\n%s", p.Status, p.URL, p.Body)
	}
	uitest.MustContain(t, p, "<h1>Users</h1>", "Signed in as boss", "Acme BV")

	// The console client exists now, built in, and the session cookie is
	// what the console promises.
	c, err := s.svc.Client(t.Context(), "acme", tenant.ConsoleClientID)
	if err != nil || !c.Public() || c.RedirectURIs[0] != s.url("acme", "/admin/callback") {
		t.Errorf("console client %+v, %v", c, err)
	}
	if consoleSessionCookie(t, s, b) == nil {
		t.Fatal("no console cookie")
	}

	// The sign-in is in the audit trail: the password check and the
	// console's own.
	trail, _ := s.svc.AuditLog(t.Context(), "acme", tenant.AuditQuery{Action: "console.signin"})
	if len(trail.Events) != 1 || trail.Events[0].Actor.Name != "boss" || trail.Events[0].Actor.IP != "127.0.0.1" {
		t.Errorf("console.signin events %+v", trail.Events)
	}

	// Signing out ends the console session and the tenant's SSO session.
	out := b.Follow(b.Submit(p, "/admin/logout", nil))
	if out.URL.Path != "/admin/signed-out" {
		t.Fatalf("after sign-out at %s:\n%s", out.URL, out.Body)
	}
	uitest.MustContain(t, out, "You are signed out")
	err = s.svc.Store.View(t.Context(), func(tx tenant.Tx) error {
		return tx.Scan(tenant.CollSessions, "acme", tenant.UserConsoleSessionPrefix, "", func(key string, _ []byte) bool {
			t.Errorf("after sign-out the store still holds %q", key)
			return true
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	again := b.Follow(b.Get(s.url("acme", "/admin/users")))
	if again.URL.Path != "/login" {
		t.Errorf("after sign-out, the console answered without a new sign-in: %s", again.URL)
	}
}

// A browser that still holds a console cookie from before the cookies
// moved from Path=/admin to Path=/ (plain http keeps the name) sends it
// first on every console page. The console still signs in, reads the
// session of the cookie that names one, and expires the old cookies at
// sign-in and at sign-out.
func TestOldAdminPathCookie(t *testing.T) {
	s := newStack(t)
	consoleURL := mustParse(t, s.url("acme", "/admin/users"))
	consoleCookies := func(b *browser) []string {
		var values []string
		for _, ck := range b.Client.Jar.Cookies(consoleURL) {
			if ck.Name == "cognate_console" || ck.Name == "cognate_console_login" {
				values = append(values, ck.Name+"="+ck.Value)
			}
		}
		return values
	}
	plant := func(b *browser) {
		b.Client.Jar.SetCookies(consoleURL, []*http.Cookie{
			{Name: "cognate_console", Value: "old-session-from-before-the-upgrade", Path: "/admin", MaxAge: 8 * 3600},
			{Name: "cognate_console_login", Value: "old-state", Path: "/admin", MaxAge: 900},
		})
	}

	b := newBrowser(t)
	plant(b)
	p := b.signIn(s, "acme", "boss", adminPassword)
	if p.Status != http.StatusOK || p.URL.Path != "/admin/users" {
		t.Fatalf("sign-in with an old cookie ended at %d %s:\n%s", p.Status, p.URL, p.Body)
	}
	if got := consoleCookies(b); len(got) != 1 || strings.Contains(got[0], "old-") {
		t.Errorf("after sign-in the browser holds %q, want only the new session cookie", got)
	}

	// An old cookie that comes back (another tab of the old session's
	// time, say) is skipped in favour of the one that names a session,
	// and sign-out clears both.
	plant(b)
	if users := b.Get(s.url("acme", "/admin/users")); users.Status != http.StatusOK {
		t.Fatalf("with both cookies: %d at %s", users.Status, users.URL)
	}
	out := b.Follow(b.Submit(b.Get(s.url("acme", "/admin/users")), "/admin/logout", nil))
	if out.URL.Path != "/admin/signed-out" {
		t.Fatalf("after sign-out at %s:\n%s", out.URL, out.Body)
	}
	if got := consoleCookies(b); len(got) != 0 {
		t.Errorf("after sign-out the browser holds %q", got)
	}
}

// The minute's sweep (tenant.SweepExpired, which reads the expiry index)
// deletes console sessions once they have expired, not only the daily scan.
func TestConsoleSessionsAreSwept(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	if p := b.signIn(s, "acme", "boss", adminPassword); p.URL.Path != "/admin/users" {
		t.Fatalf("sign-in ended at %s", p.URL)
	}
	consoleRecords := func() int {
		n := 0
		err := s.svc.Store.View(t.Context(), func(tx tenant.Tx) error {
			return tx.Scan(tenant.CollSessions, "acme", "console", "", func(string, []byte) bool { n++; return true })
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if consoleRecords() == 0 {
		t.Fatal("no console session stored after the sign-in")
	}
	if _, err := tenant.SweepExpired(t.Context(), s.svc.Store, time.Now().Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := consoleRecords(); n != 0 {
		t.Fatalf("%d console records left after their expiry's sweep", n)
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Only members of the admin group get in, checked at sign-in and again on
// every request.
func TestOnlyAdministrators(t *testing.T) {
	s := newStack(t)
	s.user(t, "acme", tenant.NewUser{Username: "pat", Email: "pat@acme.example", Password: adminPassword})
	b := newBrowser(t)
	p := b.signIn(s, "acme", "pat", adminPassword)
	if p.Status != http.StatusForbidden {
		t.Fatalf("a user who is no administrator: %d at %s", p.Status, p.URL)
	}
	uitest.MustContain(t, p, "No access to the admin console")
	denied, _ := s.svc.AuditLog(t.Context(), "acme", tenant.AuditQuery{Action: "console.denied"})
	if len(denied.Events) != 1 || denied.Events[0].Reason != tenant.ReasonNotAdmin {
		t.Errorf("console.denied events %+v", denied.Events)
	}

	// An administrator who leaves the admin group is out at the next click.
	b2 := newBrowser(t)
	users := b2.signIn(s, "acme", "boss", adminPassword)
	if users.Status != http.StatusOK {
		t.Fatalf("boss: %d", users.Status)
	}
	other := s.user(t, "acme", tenant.NewUser{Username: "ally", Password: adminPassword, Groups: []string{"admins"}})
	if err := s.svc.RemoveUserFromGroup(t.Context(), "acme", "admins", s.admin["acme"].Sub); err != nil {
		t.Fatal(err)
	}
	if p := b2.Get(s.url("acme", "/admin/users")); p.Status != http.StatusForbidden {
		t.Errorf("after leaving the admin group: %d", p.Status)
	}
	_ = other
}

// When the tenant's MFA policy is not off, a password alone does not
// open the console: the page says to set up MFA, and links to /account.
func TestAdministratorsNeedMFA(t *testing.T) {
	s := newStack(t)
	mode := tenant.MFAPolicy{Mode: tenant.MFAOptional}
	if _, err := s.svc.UpdateTenant(t.Context(), "acme", tenant.TenantChange{Settings: tenant.SettingsChange{MFA: &mode}}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	p := b.signIn(s, "acme", "boss", adminPassword)
	if p.Status != http.StatusForbidden {
		t.Fatalf("password only, MFA optional: %d at %s", p.Status, p.URL)
	}
	uitest.MustContain(t, p, "Set up two-step verification first", `href="/account"`)
}

// With a second factor, an administrator gets in where the policy asks for
// one: the ID token's amr says "mfa".
func TestAdministratorWithMFAGetsIn(t *testing.T) {
	s := newStack(t)
	mode := tenant.MFAPolicy{Mode: tenant.MFARequired, Factors: []string{tenant.FactorTOTP}}
	if _, err := s.svc.UpdateTenant(t.Context(), "acme", tenant.TenantChange{Settings: tenant.SettingsChange{MFA: &mode}}); err != nil {
		t.Fatal(err)
	}
	boss := s.admin["acme"].Sub
	res, err := s.machine.BeginEnrolment(t.Context(), "acme", boss, auth.SoftwareTokenMFA)
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.ReplaceAll(res.MFA.TOTP.Secret, " ", "")
	code := func(at time.Time) string {
		c, err := totp.GenerateCode(secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, err := s.machine.FinishEnrolment(t.Context(), "acme", boss, res.Session, auth.Answer{Code: code(time.Now())}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	challenge := b.signIn(s, "acme", "boss", adminPassword)
	uitest.MustContain(t, challenge, `autocomplete="one-time-code"`)
	// The enrolment spent this time step's code; the next step's is good.
	action := regexp.MustCompile(`<form method="post" action="([^"]*/code)"`).FindStringSubmatch(challenge.Body)
	if action == nil {
		t.Fatalf("no code form:\n%s", challenge.Body)
	}
	p := b.Follow(b.Submit(challenge, html.UnescapeString(action[1]), url.Values{"code": {code(time.Now().Add(30 * time.Second))}}))
	if p.Status != http.StatusOK || p.URL.Path != "/admin/users" {
		t.Fatalf("after the code: %d at %s:\n%s", p.Status, p.URL, p.Body)
	}
	ev, _ := s.svc.AuditLog(t.Context(), "acme", tenant.AuditQuery{Action: "console.signin"})
	if len(ev.Events) != 1 || !strings.Contains(ev.Events[0].Details["amr"], "mfa") {
		t.Errorf("console.signin %+v", ev.Events)
	}
}

// Every form needs the session's token and a same-origin post.
func TestFormsNeedTheSessionToken(t *testing.T) {
	s := newStack(t)
	ann := s.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@acme.example"})
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	target := s.url("acme", "/admin/users/"+ann.Sub+"/disable")
	for name, p := range map[string]page{
		"no token":    b.Post(target, url.Values{}),
		"wrong token": b.Post(target, url.Values{"csrf_token": {"not-the-token"}}),
		"cross-site": b.Post(target, url.Values{"csrf_token": {sessionToken(t, b, s)}},
			"Sec-Fetch-Site", "cross-site"),
		"sibling tenant": b.Post(target, url.Values{"csrf_token": {sessionToken(t, b, s)}},
			"Sec-Fetch-Site", "same-site"),
	} {
		if p.Status != http.StatusForbidden {
			t.Errorf("%s: %d", name, p.Status)
		}
	}
	if u, _ := s.svc.User(t.Context(), "acme", ann.Sub); !u.Enabled {
		t.Error("a forged form disabled the user")
	}
}

// A form sent as multipart/form-data needs the token too: only the import
// reads its body as a stream and checks the token there; every other
// action must not take the content type as leave to skip the check.
func TestMultipartFormsNeedTheSessionToken(t *testing.T) {
	s := newStack(t)
	ann := s.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@acme.example"})
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	for _, action := range []string{"disable", "delete"} {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("note", "no token here")
		mw.Close()
		req, _ := http.NewRequest(http.MethodPost, s.url("acme", "/admin/users/"+ann.Sub+"/"+action), &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		if p := b.Do(req); p.Status != http.StatusForbidden {
			t.Errorf("%s as multipart without a token: %d, want 403", action, p.Status)
		}
	}
	if u, err := s.svc.User(t.Context(), "acme", ann.Sub); err != nil || !u.Enabled {
		t.Errorf("a multipart post without the token changed the user: %+v, %v", u, err)
	}
}

// sessionToken reads the form token from a console page.
func sessionToken(t *testing.T, b *browser, s *stack) string {
	t.Helper()
	return uitest.HiddenField(t, b.Get(s.url("acme", "/admin/users")), "csrf_token")
}

// An administrator of acme can do nothing to globex: not with acme's
// session at globex's host, and not with globex's IDs at acme's.
func TestCrossTenantRefusal(t *testing.T) {
	s := newStack(t)
	victim := s.user(t, "globex", tenant.NewUser{Username: "gina", Email: "gina@globex.example"})
	if _, err := s.svc.CreateGroup(t.Context(), "globex", tenant.Group{Name: "finance"}); err != nil {
		t.Fatal(err)
	}
	gc, _, err := s.svc.CreateClient(t.Context(), "globex", tenant.NewClient{Name: "Globex app", RedirectURIs: []string{"https://app.globex.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	token := sessionToken(t, b, s)

	// acme's session cookie, presented at globex, is no session there.
	cookie := consoleSessionCookie(t, s, b)
	if cookie == nil {
		t.Fatal("no console cookie at acme")
	}
	req, _ := http.NewRequest(http.MethodGet, s.url("globex", "/admin/users"), nil)
	req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	if p := b.Do(req); p.Status != http.StatusFound || !strings.Contains(p.Location, "/admin/login") {
		t.Errorf("acme's cookie at globex: %d to %s", p.Status, p.Location)
	}
	req, _ = http.NewRequest(http.MethodPost, s.url("globex", "/admin/users/"+victim.Sub+"/disable"),
		strings.NewReader(url.Values{"csrf_token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	if p := b.Do(req); p.Status != http.StatusForbidden {
		t.Errorf("acme's cookie posting at globex: %d", p.Status)
	}

	// globex's IDs, at acme's host, are not found.
	acme := func(path string) string { return s.url("acme", path) }
	for name, p := range map[string]page{
		"view":            b.Get(acme("/admin/users/" + victim.Sub)),
		"edit form":       b.Get(acme("/admin/users/" + victim.Sub + "/edit")),
		"save":            b.Post(acme("/admin/users/"+victim.Sub+"/edit"), url.Values{"csrf_token": {token}, "email": {"x@evil.example"}}),
		"disable":         b.Post(acme("/admin/users/"+victim.Sub+"/disable"), url.Values{"csrf_token": {token}}),
		"activate":        b.Post(acme("/admin/users/"+victim.Sub+"/activate"), url.Values{"csrf_token": {token}}),
		"delete":          b.Post(acme("/admin/users/"+victim.Sub+"/delete"), url.Values{"csrf_token": {token}}),
		"unlock":          b.Post(acme("/admin/users/"+victim.Sub+"/unlock"), url.Values{"csrf_token": {token}}),
		"group":           b.Get(acme("/admin/groups/finance")),
		"edit group":      b.Post(acme("/admin/groups/finance/edit"), url.Values{"csrf_token": {token}, "name": {"pwned"}}),
		"delete group":    b.Post(acme("/admin/groups/finance/delete"), url.Values{"csrf_token": {token}}),
		"remove member":   b.Post(acme("/admin/groups/admins/members/"+s.admin["globex"].Sub+"/remove"), url.Values{"csrf_token": {token}}),
		"client":          b.Get(acme("/admin/clients/" + gc.ID)),
		"client update":   b.Post(acme("/admin/clients/"+gc.ID), url.Values{"csrf_token": {token}, "name": {"x"}, "redirect_uris": {"https://evil.example/cb"}}),
		"client secret":   b.Post(acme("/admin/clients/"+gc.ID+"/secret"), url.Values{"csrf_token": {token}}),
		"client deletion": b.Post(acme("/admin/clients/"+gc.ID+"/delete"), url.Values{"csrf_token": {token}}),
	} {
		if p.Status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404:\n%s", name, p.Status, p.Body)
		}
	}
	// globex's admin may add a member, but not an acme user by its sub.
	p := b.Post(acme("/admin/groups/admins/members"), url.Values{"csrf_token": {token}, "login": {"gina"}})
	if p.Status != http.StatusUnprocessableEntity {
		t.Errorf("add globex's user to an acme group: %d", p.Status)
	}

	after, _ := s.svc.User(t.Context(), "globex", victim.Sub)
	if !after.Enabled || after.Email != "gina@globex.example" {
		t.Errorf("globex's user changed: %+v", after)
	}
	if _, err := s.svc.Group(t.Context(), "globex", "finance"); err != nil {
		t.Errorf("globex's group: %v", err)
	}
	if cl, _ := s.svc.Client(t.Context(), "globex", gc.ID); cl.Name != "Globex app" || cl.SecretHash != gc.SecretHash {
		t.Errorf("globex's client changed: %+v", cl)
	}
	if admin, _ := s.svc.User(t.Context(), "globex", s.admin["globex"].Sub); len(admin.Groups) != 1 {
		t.Errorf("globex's admin lost a group: %v", admin.Groups)
	}
}

// A reset of an administrator's password, or a temporary one set for them,
// ends their console session at the next click, not 8 hours on.
func TestResetsEndTheConsoleSession(t *testing.T) {
	s := newStack(t)
	// A second administrator keeps the tenant administered.
	s.user(t, "acme", tenant.NewUser{Username: "ally", Email: "ally@acme.example", Password: adminPassword, Groups: []string{"admins"}})
	boss := s.admin["acme"].Sub
	tests := []struct {
		name  string
		reset func() error
	}{
		{"password reset", func() error { _, _, err := s.svc.AdminResetPassword(t.Context(), "acme", boss); return err }},
		{"temporary password", func() error { return s.svc.SetPassword(t.Context(), "acme", boss, newPassword, false) }},
		// Whoever held the factors may have signed in to the console with them.
		{"MFA reset", func() error { return s.svc.ResetMFA(t.Context(), "acme", boss) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.svc.SetPassword(t.Context(), "acme", boss, adminPassword, true); err != nil {
				t.Fatal(err)
			}
			b := newBrowser(t)
			if p := b.signIn(s, "acme", "boss", adminPassword); p.Status != http.StatusOK {
				t.Fatalf("sign-in: %d at %s", p.Status, p.URL)
			}
			token := sessionToken(t, b, s)
			if err := tt.reset(); err != nil {
				t.Fatal(err)
			}
			if p := b.Get(s.url("acme", "/admin/users")); p.Status != http.StatusFound || !strings.Contains(p.Location, "/admin/login") {
				t.Errorf("after the %s: %d to %q, want the way to sign in", tt.name, p.Status, p.Location)
			}
			ann := s.user(t, "acme", tenant.NewUser{Username: "ann-" + strings.ReplaceAll(tt.name, " ", "-")})
			if p := b.Post(s.url("acme", "/admin/users/"+ann.Sub+"/delete"), url.Values{"csrf_token": {token}}); p.Status != http.StatusForbidden {
				t.Errorf("a form after the %s: %d, want 403", tt.name, p.Status)
			}
			if _, err := s.svc.User(t.Context(), "acme", ann.Sub); err != nil {
				t.Errorf("a form after the %s deleted a user: %v", tt.name, err)
			}
		})
	}
}

// A path the console has, asked with a method it does not take, is 405
// with Allow, on a page in the person's language; a path it does not have
// is 404 whatever the method.
func TestWrongMethod(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	anon := newBrowser(t)
	tests := []struct {
		name, method, path string
		who                *browser
		status             int
		allow              string
	}{
		{"PUT a group list", http.MethodPut, "/admin/groups", b, http.StatusMethodNotAllowed, "GET, HEAD, POST"},
		{"DELETE a group list", http.MethodDelete, "/admin/groups", b, http.StatusMethodNotAllowed, "GET, HEAD, POST"},
		{"GET sign out", http.MethodGet, "/admin/logout", b, http.StatusMethodNotAllowed, "POST"},
		{"POST the user list", http.MethodPost, "/admin/users", b, http.StatusMethodNotAllowed, "GET, HEAD"},
		{"DELETE a user", http.MethodDelete, "/admin/users/some-sub", b, http.StatusMethodNotAllowed, "GET, HEAD"},
		{"GET an action", http.MethodGet, "/admin/users/some-sub/activate", b, http.StatusMethodNotAllowed, "POST"},
		{"without a session", http.MethodPut, "/admin/settings", anon, http.StatusMethodNotAllowed, "GET, HEAD, POST"},
		{"a path there is not", http.MethodGet, "/admin/nothing-here", b, http.StatusNotFound, ""},
		{"a path there is not, PUT", http.MethodPut, "/admin/nothing-here", b, http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, s.url("acme", tt.path), nil)
			p := tt.who.Do(req)
			if p.Status != tt.status || p.Header.Get("Allow") != tt.allow {
				t.Fatalf("%d with Allow %q; want %d with %q", p.Status, p.Header.Get("Allow"), tt.status, tt.allow)
			}
			if tt.status == http.StatusMethodNotAllowed {
				uitest.MustContain(t, p, "This address does not take this kind of request.")
				uitest.MustNotContain(t, p, "This page does not exist.")
			}
		})
	}
	b.Header.Set("Accept-Language", "nl")
	req, _ := http.NewRequest(http.MethodGet, s.url("acme", "/admin/logout"), nil)
	uitest.MustContain(t, b.Do(req), "Dit adres neemt dit soort verzoek niet aan.")
	// The 405 changed nothing: the session is still there.
	if p := b.Get(s.url("acme", "/admin/users")); p.Status != http.StatusOK {
		t.Errorf("after GET /admin/logout the console answers %d", p.Status)
	}
}

// After signing in, the console returns to the page asked for, but never
// out of the console, to its own sign-in, or with a control character in
// the Location header.
func TestSignInReturnsInsideTheConsole(t *testing.T) {
	s := newStack(t)
	tests := []struct{ name, next, want string }{
		{"a console page", "/admin/groups?x=1", "/admin/groups?x=1"},
		{"dot segments out of the console", "/admin/../login", "/admin/users"},
		{"a dot segment to the sign-in", "/admin/./login?x", "/admin/users"},
		{"escaped dots out of the console", "/admin/%2e%2e/login", "/admin/users"},
		{"a NUL", "/admin/users\x00x", "/admin/users"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t)
			login := b.Follow(b.Get(s.url("acme", "/admin/login?"+url.Values{"next": {tt.next}}.Encode())))
			if login.URL.Path != "/login" {
				t.Fatalf("want the tenant's login page, got %d at %s", login.Status, login.URL)
			}
			p := b.Submit(login, "/login", url.Values{"login": {"boss"}, "password": {adminPassword}})
			for i := 0; i < 10 && p.Location != "" && !strings.Contains(p.Location, "/admin/callback"); i++ {
				p = b.Get(p.Location)
			}
			back := b.Get(p.Location) // the callback
			if back.Status != http.StatusSeeOther || back.Location != s.url("acme", tt.want) {
				t.Errorf("after sign-in: %d to %q, want %q", back.Status, back.Location, s.url("acme", tt.want))
			}
			if raw := back.Header.Get("Location"); strings.ContainsFunc(raw, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				t.Errorf("Location %q holds a control character", raw)
			}
		})
	}
}

package console_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/ui/uitest"
)

// secretRE finds the secret on the page that shows it once.
var secretRE = regexp.MustCompile(`<textarea id="secret"[^>]*>([^<]+)</textarea>`)

// editClient submits p's client edit form as a browser does: its hidden
// fields, the name and the URIs as the page shows them, then changes.
func editClient(b *browser, p page, path string, changes url.Values) page {
	b.t.Helper()
	form := url.Values{}
	if m := regexp.MustCompile(`<input id="name" name="name" type="text" value="([^"]*)"`).FindStringSubmatch(p.Body); m != nil {
		form.Set("name", html.UnescapeString(m[1]))
	}
	for _, field := range []string{"redirect_uris", "logout_uris"} {
		if m := regexp.MustCompile(`<textarea id="` + field + `"[^>]*>([^<]*)</textarea>`).FindStringSubmatch(p.Body); m != nil {
			form.Set(field, html.UnescapeString(m[1]))
		}
	}
	for k, v := range changes {
		form[k] = v
	}
	return b.Submit(p, path, form)
}

// lines is n URIs of https://app.example/, one a line.
func lines(n int, path string) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("https://app.example/" + path + strconv.Itoa(i) + "\n")
	}
	return b.String()
}

// The client forms refuse what the service would, saying which value
// breaks which rule (tenant.ValidateClient's, Cognito's limits among
// them), in the administrator's language, with what was typed kept; on
// registering as on editing, and nothing is saved.
func TestClientFormSaysWhichRule(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	app, _, err := s.svc.CreateClient(t.Context(), "acme", tenant.NewClient{Name: "App", RedirectURIs: []string{"https://app.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	long := "https://app.example/" + strings.Repeat("a", tenant.MaxURILength)
	tests := []struct {
		name, lang    string
		form          url.Values
		want, wantNot string
		field         string // the field marked invalid
	}{
		{"a redirect URI twice", "en", url.Values{"name": {"Shop"}, "redirect_uris": {"https://c.example/cb\nhttps://c.example/cb"}},
			"The redirect URI “https://c.example/cb” is listed twice.", "", "redirect_uris"},
		{"a redirect URI twice, in Dutch", "nl", url.Values{"name": {"Shop"}, "redirect_uris": {"https://c.example/cb\n https://c.example/cb "}},
			"De redirect-URI “https://c.example/cb” staat er twee keer in.", "listed twice", "redirect_uris"},
		{"a sign-out URI twice", "en", url.Values{"name": {"Shop"}, "redirect_uris": {"https://c.example/cb"},
			"logout_uris": {"https://c.example/\nhttps://c.example/"}}, "The sign-out redirect URI “https://c.example/” is listed twice.", "", "logout_uris"},
		{"no name", "en", url.Values{"name": {"  "}, "redirect_uris": {"https://c.example/cb"}}, "Give the application a name.", "", "name"},
		{"a name with a tab", "en", url.Values{"name": {"Sh\top"}, "redirect_uris": {"https://c.example/cb"}},
			"An application name is at most 128 characters, without control characters such as tabs or line breaks.", "", "name"},
		{"a name with a tab, in Dutch", "nl", url.Values{"name": {"Sh\top"}, "redirect_uris": {"https://c.example/cb"}},
			"Een applicatienaam is hoogstens 128 tekens, zonder stuurtekens zoals tabs of regeleinden.", "", "name"},
		{"a name too long", "en", url.Values{"name": {strings.Repeat("é", 129)}, "redirect_uris": {"https://c.example/cb"}},
			"An application name is at most 128 characters", "", "name"},
		{"a name and a URI wrong", "en", url.Values{"name": {"Sh\top"}, "redirect_uris": {"http://c.example/cb"}},
			"An application name is at most 128 characters", "not a valid address", "name"},
		{"no redirect URI", "en", url.Values{"name": {"Shop"}, "redirect_uris": {"\n"}}, "Add at least one redirect URI.", "", "redirect_uris"},
		{"too many redirect URIs", "en", url.Values{"name": {"Shop"}, "redirect_uris": {lines(101, "cb")}},
			"An application has at most 100 redirect URIs; this list has 101.", "", "redirect_uris"},
		{"too many sign-out URIs", "nl", url.Values{"name": {"Shop"}, "redirect_uris": {"https://c.example/cb"}, "logout_uris": {lines(101, "out")}},
			"Een applicatie heeft hoogstens 100 redirect-URI's na uitloggen; deze lijst heeft er 101.", "", "logout_uris"},
		{"a URI too long", "en", url.Values{"name": {"Shop"}, "redirect_uris": {long}},
			"is too long: an address is at most 1024 characters, and this one has 1044.", "", "redirect_uris"},
		// Each rule of an address in its own words, at the list it is in.
		{"a redirect URI with a fragment", "en", url.Values{"name": {"Shop"}, "redirect_uris": {"https://c.example/cb\nhttps://c.example/cb#top"}},
			"“https://c.example/cb#top” is not a valid address: it cannot hold a fragment (a part after #).", "", "redirect_uris"},
		{"a relative redirect URI", "en", url.Values{"name": {"Shop"}, "redirect_uris": {"/cb"}},
			"“/cb” is not a valid address: it must be a whole address, with https:// and a host name.", "", "redirect_uris"},
		{"a sign-out URI over http, in Dutch", "nl", url.Values{"name": {"Shop"}, "redirect_uris": {"https://c.example/cb"},
			"logout_uris": {"http://c.example/bye"}}, "“http://c.example/bye” is geen geldig adres: het moet https gebruiken (http alleen voor localhost).", "",
			"logout_uris"},
	}
	invalid := regexp.MustCompile(`<(?:input|textarea) id="([a-z_]+)"[^>]*aria-invalid="true"`)
	for _, tt := range tests {
		for _, where := range []string{"/admin/clients/new", "/admin/clients/" + app.ID} {
			t.Run(tt.name+" at "+where, func(t *testing.T) {
				b.Header.Set("Accept-Language", tt.lang)
				defer b.Header.Set("Accept-Language", "en")
				before, _ := s.svc.Clients(t.Context(), "acme")
				form := url.Values{"type": {"confidential"}}
				for k, v := range tt.form {
					form[k] = v
				}
				p := b.Submit(b.Get(s.url("acme", where)), where, form)
				if p.Status != http.StatusUnprocessableEntity {
					t.Fatalf("status %d, want 422:\n%s", p.Status, p.Body)
				}
				uitest.MustContain(t, p, tt.want, `<form method="post" action="`+where+`"`, `aria-invalid="true"`)
				uitest.MustNotContain(t, p, "This change is not valid", "Deze wijziging is niet geldig")
				if m := invalid.FindAllStringSubmatch(p.Body, -1); len(m) != 1 || m[0][1] != tt.field {
					t.Errorf("fields marked invalid: %v, want %s", m, tt.field)
				}
				if tt.wantNot != "" {
					uitest.MustNotContain(t, p, tt.wantNot)
				}
				for _, field := range []string{"redirect_uris", "logout_uris"} {
					if v := tt.form.Get(field); v != "" && !strings.Contains(p.Body, ">"+v+"</textarea>") {
						t.Errorf("the form lost what was typed in %s", field)
					}
				}
				if after, _ := s.svc.Clients(t.Context(), "acme"); !slices.EqualFunc(after, before, func(a, b tenant.Client) bool {
					return a.ID == b.ID && a.UpdatedAt.Equal(b.UpdatedAt)
				}) {
					t.Error("a refused form changed the clients")
				}
			})
		}
	}
}

// A client that only uses client credentials has no redirect URI, and
// needs none (tenant.ValidateClient): the console renames it. A client
// that signs people in still needs one.
func TestRenameAClientWithoutRedirectURIs(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	m2m, _, err := s.svc.CreateClient(t.Context(), "acme", tenant.NewClient{Name: "m2m",
		GrantTypes: []string{tenant.GrantClientCredentials}, Scopes: []string{"api/read"}})
	if err != nil {
		t.Fatal(err)
	}
	path := "/admin/clients/" + m2m.ID
	saved := b.Follow(b.Submit(b.Get(s.url("acme", path)), path, url.Values{"name": {"Billing robot"}}))
	uitest.MustContain(t, saved, "The application has been saved.", "<h1>Billing robot</h1>")
	if c, _ := s.svc.Client(t.Context(), "acme", m2m.ID); c.Name != "Billing robot" || len(c.RedirectURIs) != 0 {
		t.Errorf("after the rename: %+v", c)
	}

	web, _, err := s.svc.CreateClient(t.Context(), "acme", tenant.NewClient{Name: "Web", RedirectURIs: []string{"https://web.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	path = "/admin/clients/" + web.ID
	p := b.Submit(b.Get(s.url("acme", path)), path, url.Values{"name": {"Web 2"}, "redirect_uris": {""}})
	if p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("a sign-in client without a redirect URI: %d", p.Status)
	}
	uitest.MustContain(t, p, "Add at least one redirect URI.")
}

// An edit form carries the version of the client it was made from. Saved
// after someone else changed the client (another tab, another
// administrator), it changes nothing: the newer change stays, and the
// page says so, with the client as it is now in the form and what was sent
// listed beside it. The form made anew then saves. A new secret is nothing
// the form shows, and does not make it stale.
func TestStaleClientFormChangesNothing(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	app, _, err := s.svc.CreateClient(t.Context(), "acme", tenant.NewClient{Name: "App",
		RedirectURIs: []string{"https://app.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	path := "/admin/clients/" + app.ID
	tabA := b.Get(s.url("acme", path))
	tabB := b.Get(s.url("acme", path))
	// Tab B adds a redirect URI.
	if p := b.Follow(editClient(b, tabB, path, url.Values{"redirect_uris": {"https://app.example/cb\nhttps://app.example/cb2"}})); p.Status != http.StatusOK {
		t.Fatalf("tab B: %d", p.Status)
	}
	// Tab A, opened before, renames: its redirect list is the old one.
	p := editClient(b, tabA, path, url.Values{"name": {"Renamed in A"}})
	if p.Status != http.StatusConflict {
		t.Fatalf("the stale form: %d, want 409:\n%s", p.Status, p.Body)
	}
	uitest.MustContain(t, p, "This application was changed by someone else since you opened this page.",
		`<table class="unsaved">`, `<td class="wrap">Renamed in A</td><td class="wrap">App</td>`,
		"https://app.example/cb\nhttps://app.example/cb2</td>")
	stored, _ := s.svc.Client(t.Context(), "acme", app.ID)
	if stored.Name != "App" || len(stored.RedirectURIs) != 2 {
		t.Fatalf("the stale form changed the client: %+v", stored)
	}
	// The page's form is the client as it is now: saved, it saves.
	saved := b.Follow(editClient(b, p, path, url.Values{"name": {"Renamed in A"}}))
	uitest.MustContain(t, saved, "The application has been saved.")
	if c, _ := s.svc.Client(t.Context(), "acme", app.ID); c.Name != "Renamed in A" || len(c.RedirectURIs) != 2 {
		t.Errorf("after saving the form made anew: %+v", c)
	}

	// A new secret leaves the form as it was; a form without a version is
	// never taken for the current one.
	page := b.Get(s.url("acme", path))
	if _, _, err := s.svc.RotateClientSecret(t.Context(), "acme", app.ID); err != nil {
		t.Fatal(err)
	}
	if p := b.Follow(editClient(b, page, path, url.Values{"name": {"After the secret"}})); p.Status != http.StatusOK {
		t.Errorf("a form from before a new secret: %d, want it saved", p.Status)
	}
	b.Header.Set("Accept-Language", "nl")
	p = editClient(b, b.Get(s.url("acme", path)), path, url.Values{"name": {"No version"}, "version": {""}})
	if p.Status != http.StatusConflict {
		t.Errorf("a form without a version: %d, want 409", p.Status)
	}
	uitest.MustContain(t, p, "Deze applicatie is door iemand anders gewijzigd", "U stuurde")
	if c, _ := s.svc.Client(t.Context(), "acme", app.ID); c.Name != "After the secret" {
		t.Errorf("a refused form renamed the client to %q", c.Name)
	}
}

// Registering an application and rotating its secret act once per form:
// the same form sent again (a reload of the page that answered, a double
// click) makes no second client and voids no secret, and says so, with a
// link to the application.
func TestClientFormsActOnce(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	form := b.Get(s.url("acme", "/admin/clients/new"))
	values := url.Values{"name": {"Billing"}, "type": {"confidential"}, "redirect_uris": {"https://billing.example/cb"}}
	first := b.Submit(form, "/admin/clients/new", values)
	secret := secretRE.FindStringSubmatch(first.Body)
	if first.Status != http.StatusOK || secret == nil {
		t.Fatalf("first post: %d:\n%s", first.Status, first.Body)
	}
	again := b.Submit(form, "/admin/clients/new", values)
	if again.Status != http.StatusConflict {
		t.Fatalf("the same form again: %d, want 409:\n%s", again.Status, again.Body)
	}
	var billing []tenant.Client
	clients, _ := s.svc.Clients(t.Context(), "acme")
	for _, c := range clients {
		if c.Name == "Billing" {
			billing = append(billing, c)
		}
	}
	if len(billing) != 1 {
		t.Fatalf("%d clients called Billing, want 1", len(billing))
	}
	uitest.MustContain(t, again, "This form was sent already, and the application was registered then.",
		`href="/admin/clients/`+billing[0].ID+`"`)
	uitest.MustNotContain(t, again, `id="secret"`)
	if billing[0].SecretHash != tenant.HashSecret(secret[1]) {
		t.Error("the secret shown first no longer works")
	}

	// A new form registers another.
	if p := b.Submit(b.Get(s.url("acme", "/admin/clients/new")), "/admin/clients/new", values); p.Status != http.StatusOK {
		t.Errorf("a new form: %d", p.Status)
	}

	path := "/admin/clients/" + billing[0].ID
	page := b.Get(s.url("acme", path))
	rotated := b.Submit(page, path+"/secret", nil)
	newSecret := secretRE.FindStringSubmatch(rotated.Body)
	if newSecret == nil {
		t.Fatalf("no new secret:\n%s", rotated.Body)
	}
	b.Header.Set("Accept-Language", "nl")
	twice := b.Submit(page, path+"/secret", nil)
	if twice.Status != http.StatusConflict {
		t.Fatalf("the rotation sent again: %d, want 409", twice.Status)
	}
	uitest.MustContain(t, twice, "Dit formulier was al verzonden, en het geheim is toen vernieuwd.", `href="`+path+`"`)
	uitest.MustNotContain(t, twice, `id="secret"`)
	if c, _ := s.svc.Client(t.Context(), "acme", billing[0].ID); c.SecretHash != tenant.HashSecret(newSecret[1]) {
		t.Error("the rotation sent again voided the secret it showed")
	}
	// A form without its token is no form the console showed.
	token := uitest.HiddenField(t, page, "csrf_token")
	if p := b.Post(s.url("acme", path+"/secret"), url.Values{"csrf_token": {token}}); p.Status != http.StatusBadRequest {
		t.Errorf("a rotation without its one-time token: %d, want 400", p.Status)
	}
}

// Every refused console request logs exactly one line (issue #2): form
// problems, refusals of the service, a wrong method, a page there is not,
// a form without its token, self-lockout. The line names the path, the
// status and the key of the sentence shown, never a value that was sent.
func TestEveryRefusalLogsOneLine(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	anon := newBrowser(t)
	invited := s.user(t, "acme", tenant.NewUser{Username: "ivy", Email: "ivy@acme.example", Invite: true})
	app, _, err := s.svc.CreateClient(t.Context(), "acme", tenant.NewClient{Name: "App", RedirectURIs: []string{"https://app.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	token := uitest.HiddenField(t, b.Get(s.url("acme", "/admin/users")), "csrf_token")
	post := func(who *browser, path string, form url.Values) func() page {
		return func() page {
			form.Set("csrf_token", token)
			return who.Post(s.url("acme", path), form)
		}
	}
	do := func(method, path string) func() page {
		return func() page {
			req, _ := http.NewRequest(method, s.url("acme", path), nil)
			return b.Do(req)
		}
	}
	clientPath := "/admin/clients/" + app.ID
	edit := func(changes url.Values) func() page {
		return func() page { return editClient(b, b.Get(s.url("acme", clientPath)), clientPath, changes) }
	}
	tests := []struct {
		name   string
		send   func() page
		status int
		key    string
		secret string // sent, and not to be logged
	}{
		{"a username with a space", post(b, "/admin/users/new", url.Values{"username": {"has s3cret-space"}}), 422, "problem.username", "s3cret"},
		{"a client name with a tab", post(b, "/admin/clients/new", url.Values{"name": {"Sh\top-s3cret"}, "redirect_uris": {"https://c.example/cb"}, "once": {"a-new-form"}}),
			422, "import.reason.client.nameRule", "s3cret"},
		{"a redirect URI twice", edit(url.Values{"redirect_uris": {"https://s3cret.example/cb\nhttps://s3cret.example/cb"}}),
			422, "problem.redirectTwice", "s3cret"},
		{"a stale client form", edit(url.Values{"version": {"not-this-one"}, "name": {"s3cret"}}), 409, "problem.stale.client", "s3cret"},
		{"a client form sent again", post(b, clientPath+"/secret", url.Values{"once": {"used-twice"}}), 0, "", ""},
		{"the same rotation again", post(b, clientPath+"/secret", url.Values{"once": {"used-twice"}}), 409, "once.secretRotated", ""},
		{"a reset for an invited user", post(b, "/admin/users/"+invited.Sub+"/reset-password", url.Values{}), 409, "problem.userState", ""},
		{"leaving the admin group", post(b, "/admin/groups/admins/members/"+s.admin["acme"].Sub+"/remove", url.Values{}), 422, "problem.selfLockout", ""},
		{"a wrong method", do(http.MethodPut, "/admin/users"), 405, "error.method", ""},
		{"a page there is not", do(http.MethodGet, "/admin/nothing-here"), 404, "error.notFound", ""},
		{"a client there is not", do(http.MethodGet, "/admin/clients/nope"), 404, "error.gone.client", ""},
		{"a form without its token", func() page {
			return b.Post(s.url("acme", "/admin/users/new"), url.Values{"username": {"s3cret"}})
		}, 403, "error.csrf", "s3cret"},
		{"a form without a session", post(anon, "/admin/users/new", url.Values{"username": {"s3cret"}}), 403, "expired.text", "s3cret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mark := s.log.Mark()
			p := tt.send()
			var got []string
			for _, line := range s.log.Since(mark) {
				if !strings.Contains(line, `msg="mail `) { // the outbox's, at its own pace
					got = append(got, line)
				}
			}
			if tt.status == 0 {
				if p.Status >= 400 {
					t.Fatalf("status %d:\n%s", p.Status, p.Body)
				}
				return
			}
			if p.Status != tt.status {
				t.Fatalf("status %d, want %d:\n%s", p.Status, tt.status, p.Body)
			}
			if len(got) != 1 {
				t.Fatalf("%d lines, want 1:\n%s", len(got), strings.Join(got, "\n"))
			}
			for _, want := range []string{`msg="console request refused"`, "status=" + strconv.Itoa(tt.status), "message=" + tt.key + " ", "host=acme.localhost:"} {
				if !strings.Contains(got[0]+" ", want) {
					t.Errorf("the line lacks %s:\n%s", want, got[0])
				}
			}
			if tt.secret != "" && strings.Contains(got[0], tt.secret) {
				t.Errorf("the line holds what was sent:\n%s", got[0])
			}
		})
	}
}

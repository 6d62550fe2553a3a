package console_test

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/password"
	"github.com/cognate-idp/cognate/ui/uitest"
)

func TestGroups(t *testing.T) {
	s := newStack(t)
	ann := s.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@acme.example"})
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)

	list := b.Get(s.url("acme", "/admin/groups"))
	uitest.MustContain(t, list, "admins", "Admin group", "Create group")
	created := b.Follow(b.Submit(list, "/admin/groups", url.Values{"name": {"Sales / EMEA"},
		"description": {"Sells to Europe and the Middle East"}, "precedence": {"3"}}))
	if created.URL.Path != "/admin/groups/Sales%20%2F%20EMEA" && created.URL.EscapedPath() != "/admin/groups/Sales%20%2F%20EMEA" {
		t.Errorf("after create at %s", created.URL.EscapedPath())
	}
	uitest.MustContain(t, created, "The group has been saved.", "This group has no members.",
		`<p class="wrap lines">Sells to Europe and the Middle East</p>`, "Precedence: 3")
	uitest.MustContain(t, b.Get(s.url("acme", "/admin/groups")), `class="wrap">Sells to Europe and the Middle East</td>`, `class="wrap">—</td>`)
	dup := b.Submit(list, "/admin/groups", url.Values{"name": {"admins"}})
	uitest.MustContain(t, dup, "There is already a group called “admins”.")

	path := "/admin/groups/Sales%20%2F%20EMEA"
	added := b.Follow(b.Submit(created, path+"/members", url.Values{"login": {"ann@acme.example"}}))
	uitest.MustContain(t, added, ">ann<")
	if u, _ := s.svc.User(t.Context(), "acme", ann.Sub); !slices.Equal(u.Groups, []string{"Sales / EMEA"}) {
		t.Errorf("ann's groups %v", u.Groups)
	}
	missing := b.Submit(added, path+"/members", url.Values{"login": {"nobody"}})
	uitest.MustContain(t, missing, "There is no user “nobody”.")
	if got := invalidField(missing); got != "login" {
		t.Errorf("no such user: the field marked invalid is %q", got)
	}

	// A problem in any field, on the create form or the group's details,
	// saves nothing and shows the form again as it was typed.
	precedenceProblem := "The precedence is a whole number from 0 to 2147483647, or empty for none."
	for _, tc := range []struct {
		what, field, groupName, description, precedence, problem string
	}{
		{"name with spaces around", "name", " Renamed ", "Typed, not saved", "7", "A group name cannot start or end with a space."},
		{"description too long", "description", "Renamed", strings.Repeat("x", tenant.MaxGroupDescription+1), "7",
			"A group description is at most 2048 characters; this one has 2049."},
		{"description with a control character", "description", "Renamed", "Bell\x07ringers", "7",
			"A group description cannot hold control characters (line breaks and tabs are fine)."},
		{"negative precedence", "precedence", "Renamed", "Typed, not saved", "-1", precedenceProblem},
		{"precedence not a number", "precedence", "Renamed", "Typed, not saved", "abc", precedenceProblem},
		{"precedence too large", "precedence", "Renamed", "Typed, not saved", "2147483648", precedenceProblem},
	} {
		typed := url.Values{"name": {tc.groupName}, "description": {tc.description}, "precedence": {tc.precedence}}
		for _, form := range []struct {
			at     page
			action string
		}{{list, "/admin/groups"}, {added, path + "/edit"}} {
			p := b.Submit(form.at, form.action, typed)
			if p.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s at %s: status %d", tc.what, form.action, p.Status)
			}
			uitest.MustContain(t, p, tc.problem, `value="`+tc.groupName+`"`, ">"+tc.description+"</textarea>", `value="`+tc.precedence+`"`)
			if got := invalidField(p); got != tc.field {
				t.Errorf("%s at %s: the field marked invalid is %q", tc.what, form.action, got)
			}
		}
		for _, name := range []string{"Renamed", " Renamed "} {
			if _, err := s.svc.Group(t.Context(), "acme", name); !errors.Is(err, tenant.ErrNotFound) {
				t.Errorf("%s: group %q: %v", tc.what, name, err)
			}
		}
		if g, err := s.svc.Group(t.Context(), "acme", "Sales / EMEA"); err != nil || g.Description != "Sells to Europe and the Middle East" ||
			g.Precedence == nil || *g.Precedence != 3 {
			t.Errorf("%s: the group became %+v (%v)", tc.what, g, err)
		}
	}

	// Precedence 0 is a precedence, not none; the browser's CRLF line
	// breaks are kept as LF.
	edited := b.Follow(b.Submit(added, path+"/edit", url.Values{"name": {"Sales / EMEA"},
		"description": {"Sells to Europe\r\nand the Middle East"}, "precedence": {"0"}}))
	uitest.MustContain(t, edited, "The group has been saved.", "Sells to Europe\nand the Middle East</p>", "Precedence: 0", `value="0"`)
	if g, _ := s.svc.Group(t.Context(), "acme", "Sales / EMEA"); g.Description != "Sells to Europe\nand the Middle East" ||
		g.Precedence == nil || *g.Precedence != 0 {
		t.Errorf("after the edit: %+v", g)
	}

	// Renaming with the other fields emptied removes the description and
	// the precedence; the members move along.
	renamed := b.Follow(b.Submit(edited, path+"/edit", url.Values{"name": {"Sales"}, "description": {""}, "precedence": {""}}))
	uitest.MustContain(t, renamed, "<h1>Sales</h1>", ">ann<")
	uitest.MustNotContain(t, renamed, "Middle East", "Precedence: ")
	if g, err := s.svc.Group(t.Context(), "acme", "Sales"); err != nil || g.Description != "" || g.Precedence != nil {
		t.Errorf("after clearing: %+v (%v)", g, err)
	}
	uitest.MustContain(t, b.Get(s.url("acme", "/admin/groups")), `>Sales</a>`)
	removed := b.Follow(b.Submit(renamed, "/admin/groups/Sales/members/"+ann.Sub+"/remove", nil))
	uitest.MustContain(t, removed, "This group has no members.")

	confirm := b.Get(s.url("acme", "/admin/groups/Sales/delete"))
	uitest.MustContain(t, confirm, "Delete the group Sales?")
	gone := b.Follow(b.Submit(confirm, "/admin/groups/Sales/delete", nil))
	uitest.MustContain(t, gone, "The group has been deleted.")
	uitest.MustNotContain(t, gone, ">Sales<", "has been saved")

	// The admin group offers no delete, and refuses one.
	admins := b.Get(s.url("acme", "/admin/groups/admins"))
	uitest.MustContain(t, admins, "Members of this group may use the admin console.")
	uitest.MustNotContain(t, admins, "/admin/groups/admins/delete")
	token := uitest.HiddenField(t, admins, "csrf_token")
	if p := b.Post(s.url("acme", "/admin/groups/admins/delete"), url.Values{"csrf_token": {token}}); p.Status != http.StatusUnprocessableEntity {
		t.Errorf("delete the admin group: %d", p.Status)
	}
	// Nor may the administrator leave it.
	p := b.Post(s.url("acme", "/admin/groups/admins/members/"+s.admin["acme"].Sub+"/remove"), url.Values{"csrf_token": {token}})
	uitest.MustContain(t, p, "You cannot disable or delete yourself, nor leave the admin group")
}

var invalidRE = regexp.MustCompile(`<(?:input|textarea|select) id="([^"]+)"[^>]*aria-invalid="true"`)

// invalidField is the id of the first field p marks invalid; "" for none.
func invalidField(p page) string {
	if m := invalidRE.FindStringSubmatch(p.Body); m != nil {
		return m[1]
	}
	return ""
}

func TestClients(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)

	list := b.Get(s.url("acme", "/admin/clients"))
	uitest.MustContain(t, list, "Admin console", "Built in", tenant.ConsoleClientID)
	form := b.Get(s.url("acme", "/admin/clients/new"))
	bad := b.Submit(form, "/admin/clients/new", url.Values{"name": {"Shop"}, "type": {"confidential"}, "redirect_uris": {"http://shop.example/cb"}})
	uitest.MustContain(t, bad, "“http://shop.example/cb” is not a valid address")
	shown := b.Submit(form, "/admin/clients/new", url.Values{"name": {"Shop"}, "type": {"confidential"},
		"redirect_uris": {"https://shop.example/cb\nhttps://shop.example/cb2"}, "logout_uris": {"https://shop.example/"}})
	uitest.MustContain(t, shown, "Copy the secret now: it is shown this once")
	secret := secretRE.FindStringSubmatch(shown.Body)
	if secret == nil {
		t.Fatalf("no secret on the page:\n%s", shown.Body)
	}
	if shown.Header.Get("Cache-Control") != "no-store" {
		t.Error("the secret page may be cached")
	}
	clients, _ := s.svc.Clients(t.Context(), "acme")
	var shop tenant.Client
	for _, c := range clients {
		if c.Name == "Shop" {
			shop = c
		}
	}
	if shop.SecretHash != tenant.HashSecret(secret[1]) || len(shop.RedirectURIs) != 2 {
		t.Fatalf("shop %+v", shop)
	}

	// Edit the URIs; rotate the secret.
	page := b.Get(s.url("acme", "/admin/clients/"+shop.ID))
	saved := b.Follow(b.Submit(page, "/admin/clients/"+shop.ID, url.Values{"name": {"Shop"},
		"redirect_uris": {"https://shop.example/callback"}, "logout_uris": {""}}))
	uitest.MustContain(t, saved, "The application has been saved.", "https://shop.example/callback")
	if c, _ := s.svc.Client(t.Context(), "acme", shop.ID); !slices.Equal(c.RedirectURIs, []string{"https://shop.example/callback"}) || len(c.PostLogoutRedirectURIs) != 0 {
		t.Errorf("after the edit %+v", c)
	}
	rotated := b.Submit(saved, "/admin/clients/"+shop.ID+"/secret", nil)
	again := secretRE.FindStringSubmatch(rotated.Body)
	if again == nil || again[1] == secret[1] {
		t.Fatal("no new secret")
	}
	if c, _ := s.svc.Client(t.Context(), "acme", shop.ID); c.SecretHash != tenant.HashSecret(again[1]) {
		t.Error("the shown secret is not the client's")
	}

	// The console's own client is read-only here.
	builtin := b.Get(s.url("acme", "/admin/clients/"+tenant.ConsoleClientID))
	uitest.MustContain(t, builtin, "Cognate uses this application itself")
	token := uitest.HiddenField(t, builtin, "csrf_token")
	p := b.Post(s.url("acme", "/admin/clients/"+tenant.ConsoleClientID), url.Values{"csrf_token": {token}, "name": {"x"}, "redirect_uris": {"https://evil.example/cb"}})
	if p.Status != http.StatusUnprocessableEntity {
		t.Errorf("change the console client: %d", p.Status)
	}
	if p := b.Post(s.url("acme", "/admin/clients/"+tenant.ConsoleClientID+"/delete"), url.Values{"csrf_token": {token}}); p.Status != http.StatusConflict {
		t.Errorf("delete the console client: %d", p.Status)
	}

	confirm := b.Get(s.url("acme", "/admin/clients/"+shop.ID+"/delete"))
	deleted := b.Follow(b.Submit(confirm, "/admin/clients/"+shop.ID+"/delete", nil))
	uitest.MustContain(t, deleted, "The application has been deleted.")
	uitest.MustNotContain(t, deleted, "has been saved")
	if _, err := s.svc.Client(t.Context(), "acme", shop.ID); err == nil {
		t.Error("the client survived its deletion")
	}
}

func TestSettings(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	if _, err := s.svc.CreateGroup(t.Context(), "acme", tenant.Group{Name: "owners"}); err != nil {
		t.Fatal(err)
	}
	form := b.Get(s.url("acme", "/admin/settings"))
	uitest.MustContain(t, form, `value="Acme BV"`, "Password policy", "Lockout after failed sign-ins",
		`<option selected>admins</option>`, `<option>owners</option>`)
	good := url.Values{"name": {"Acme Corp"}, "locale": {"nl"}, "admin_group": {"admins"}, "logo_url": {"https://cdn.acme.example/logo.png"},
		"primary_color": {"#0a7d4f"}, "mfa_mode": {"OFF"}, "factor_totp": {"on"}, "min_length": {"12"}, "history_size": {"3"},
		"require_upper": {"on"}, "require_numbers": {"on"}, "temp_days": {"3"}, "max_failures": {"7"}, "lock_minutes": {"30"}}
	tests := []struct {
		name   string
		change url.Values
		want   string
	}{
		{"short minimum", url.Values{"min_length": {"4"}}, "The minimum length must be between 6 and 99."},
		{"colour", url.Values{"primary_color": {"green"}}, "“green” is not a colour"},
		{"logo", url.Values{"logo_url": {"http://cdn.acme.example/logo.png"}}, "is not an https address (http only for localhost)."},
		{"no factors", url.Values{"mfa_mode": {"ON"}, "factor_totp": {""}}, "Allow at least one second factor"},
		{"lockout", url.Values{"max_failures": {"0"}}, "between 1 and 100"},
		// boss is not in owners: moving the admin group there would lock
		// boss out of this console.
		{"admin group without me", url.Values{"admin_group": {"owners"}}, "You are not a member of owners"},
		{"no admin group", url.Values{"admin_group": {""}}, "This change is not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := url.Values{}
			for k, vs := range good {
				v[k] = vs
			}
			for k, vs := range tt.change {
				v[k] = vs
			}
			p := b.Submit(form, "/admin/settings", v)
			if p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", p.Status)
			}
			uitest.MustContain(t, p, tt.want, `aria-invalid="true"`)
		})
	}
	saved := b.Follow(b.Submit(form, "/admin/settings", good))
	// The tenant chose Dutch: the console speaks it now.
	uitest.MustContain(t, saved, "De instellingen zijn opgeslagen.", `value="Acme Corp"`, "accent-0a7d4f.css")
	tn, _ := s.svc.Tenant(t.Context(), "acme")
	st := tn.Settings
	if tn.Name != "Acme Corp" || st.Locale != "nl" || st.Branding.LogoURL != "https://cdn.acme.example/logo.png" ||
		st.PasswordPolicy.MinimumLength != 12 || !st.PasswordPolicy.RequireUppercase || st.PasswordPolicy.RequireLowercase ||
		st.TempPasswordValidityDays != 3 || st.Lockout.MaxFailures != 7 || st.Lockout.LockDuration != 30*time.Minute || st.AdminGroup != "admins" ||
		!slices.Equal(st.MFA.Factors, []string{tenant.FactorTOTP}) {
		t.Errorf("settings after save: %s %+v", tn.Name, st)
	}
	ev, _ := s.svc.AuditLog(t.Context(), "acme", tenant.AuditQuery{Action: "tenant.update"})
	if len(ev.Events) != 1 || !strings.Contains(ev.Events[0].Details["fields"], "password_policy") {
		t.Errorf("tenant.update events %+v", ev.Events)
	}
	// The login page wears the new colour and logo, which its CSP admits.
	anon := newBrowser(t)
	login := anon.Follow(anon.Get(s.url("acme", "/admin")))
	uitest.MustContain(t, login, "accent-0a7d4f.css", `<img class="brand-logo" src="https://cdn.acme.example/logo.png" alt="">`)
	if csp := login.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data: https://cdn.acme.example;") {
		t.Errorf("login page CSP %q", csp)
	}
}

// The settings form's numbers carry the limits tenant holds the settings
// to, as the inputs' min and max and in the form's own check: a value at
// an end is taken, one past it is refused at its field.
func TestSettingsLimitsAreTheTenants(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	form := b.Get(s.url("acme", "/admin/settings"))
	limits := []struct {
		field    string
		min, max int
	}{
		{"min_length", password.MinMinimumLength, password.MaxMinimumLength},
		{"history_size", 0, password.MaxHistorySize},
		{"temp_days", tenant.MinTempPasswordValidityDays, tenant.MaxTempPasswordValidityDays},
		{"max_failures", tenant.MinLockoutFailures, tenant.MaxLockoutFailures},
		{"lock_minutes", int(tenant.MinLockDuration / time.Minute), int(tenant.MaxLockDuration / time.Minute)},
	}
	for _, l := range limits {
		uitest.MustContain(t, form, fmt.Sprintf(`name="%s" type="number" inputmode="numeric" min="%d" max="%d"`, l.field, l.min, l.max))
	}
	good := url.Values{"name": {"Acme BV"}, "locale": {"en"}, "admin_group": {"admins"}, "mfa_mode": {"OFF"},
		"min_length": {"8"}, "history_size": {"0"}, "temp_days": {"7"}, "max_failures": {"5"}, "lock_minutes": {"15"}}
	for _, l := range limits {
		for _, tt := range []struct {
			value int
			saved bool
		}{{l.min, true}, {l.max, true}, {l.min - 1, false}, {l.max + 1, false}} {
			v := url.Values{}
			for k, vs := range good {
				v[k] = vs
			}
			v.Set(l.field, strconv.Itoa(tt.value))
			// What the form takes, UpdateTenant (ValidateSettings) takes.
			p := b.Submit(b.Get(s.url("acme", "/admin/settings")), "/admin/settings", v)
			switch {
			case tt.saved && p.Status != http.StatusSeeOther:
				t.Errorf("%s %d: status %d, want it saved", l.field, tt.value, p.Status)
			case !tt.saved && p.Status != http.StatusUnprocessableEntity:
				t.Errorf("%s %d: status %d, want it refused", l.field, tt.value, p.Status)
			case !tt.saved:
				uitest.MustContain(t, p, fmt.Sprintf("between %d and %d", l.min, l.max),
					fmt.Sprintf(`name="%s" type="number" inputmode="numeric" min="%d" max="%d" value="%d" required aria-invalid="true"`,
						l.field, l.min, l.max, tt.value))
			}
		}
	}
}

// The console refuses a name another organization has, however it is
// spelled, and a name that hides or reverses text, in the admin's
// language and at the name field, without saying which organization has
// the name.
func TestSettingsOrganizationName(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	// want is HTML: html/template writes the + of U+202E as &#43;.
	tests := []struct {
		name, lang, value, want string
	}{
		{"another's name", "en", "Globex", "Another organization already has this name. People find their organization by its name"},
		{"another's name in capitals and spaces", "en", "  GLOBEX ", "Another organization already has this name."},
		{"another's name, in Dutch", "nl", "globex", "Een andere organisatie heeft deze naam al. Mensen vinden hun organisatie aan de naam"},
		{"a right-to-left override", "en", "Evil\u202eCorp", "The display name contains the character U&#43;202E, which cannot be seen or reverses the direction of the text. It may be there although the field looks right"},
		{"only a zero-width space", "en", "\u200b", "The display name contains the character U&#43;200B"},
		{"a right-to-left override, in Dutch", "nl", "Evil\u202eCorp", "De weergavenaam bevat het teken U&#43;202E, dat niet te zien is of de schrijfrichting omdraait"},
		{"too long", "en", strings.Repeat("a", 129), "The display name is 1 to 128 characters, at least one of them a letter, digit or symbol you can see."},
		{"too long, in Dutch", "nl", strings.Repeat("a", 129), "De weergavenaam heeft 1 tot 128 tekens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.Header.Set("Accept-Language", tt.lang)
			defer b.Header.Set("Accept-Language", "en")
			form := b.Get(s.url("acme", "/admin/settings"))
			v := formValues(t, form.Body, "/admin/settings")
			v.Set("name", tt.value)
			p := b.Submit(form, "/admin/settings", v)
			if p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422:\n%s", p.Status, p.Body)
			}
			uitest.MustContain(t, p, tt.want)
			mustBeTiedToProblem(t, p, "name")
			uitest.MustNotContain(t, p, "globex.", "This change is not valid", "Deze wijziging is niet geldig")
			if tn, _ := s.svc.Tenant(t.Context(), "acme"); tn.Name != "Acme BV" {
				t.Errorf("the name is now %q", tn.Name)
			}
		})
	}
}

// A name stored before today's rule refused it (here with a zero-width
// space, which is in the field but cannot be seen there) stays as it is
// while the other settings are saved, as a name another organization
// shares does: it is checked only when it changes.
func TestSettingsKeepAStoredNameTheRuleNowRefuses(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	const stored = "Acme\u200bBV"
	err := s.svc.Store.Update(t.Context(), func(tx tenant.Tx) error {
		acme, err := tenant.GetTenant(tx, "acme")
		if err != nil {
			return err
		}
		acme.Name = stored
		return tenant.PutTenant(tx, acme)
	})
	if err != nil {
		t.Fatal(err)
	}
	form := b.Get(s.url("acme", "/admin/settings"))
	v := formValues(t, form.Body, "/admin/settings")
	if v.Get("name") != stored {
		t.Fatalf("the form shows the name as %+q, want %+q", v.Get("name"), stored)
	}
	v.Set("locale", "nl")
	if p := b.Submit(form, "/admin/settings", v); p.Status != http.StatusSeeOther {
		t.Fatalf("status %d, want 303:\n%s", p.Status, p.Body)
	}
	if tn, _ := s.svc.Tenant(t.Context(), "acme"); tn.Name != stored || tn.Settings.Locale != "nl" {
		t.Errorf("after the save: name %+q, locale %q; want %+q, nl", tn.Name, tn.Settings.Locale, stored)
	}
}

// A group named before today's rule for group names (the blank Braille
// pattern, which draws as nothing) is among those the admin group may be,
// but chosen anew it is refused by that rule: the console says the rule as
// the group forms say it, in the admin's language, at the admin group, and
// the refusal's one log line says why, naming no value sent.
func TestSettingsAdminGroupNamedByOlderRules(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	const blank = "\u2800"
	if tenant.ValidateGroupName(blank) == nil {
		t.Fatalf("the group name %+q is accepted: the test needs one refused", blank)
	}
	// What an older version stored.
	err := s.svc.Store.Update(t.Context(), func(tx tenant.Tx) error {
		return tenant.PutJSON(tx, tenant.CollGroups, "acme", blank, tenant.Group{Name: blank})
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ lang, want string }{
		{"en", "A group name cannot hold control characters such as tabs or line breaks, or characters that cannot be seen, and needs one that can be."},
		{"nl", "Een groepsnaam mag geen stuurtekens zoals tabs of regeleinden bevatten, en geen tekens die niet te zien zijn"},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			b.Header.Set("Accept-Language", tt.lang)
			defer b.Header.Set("Accept-Language", "en")
			form := b.Get(s.url("acme", "/admin/settings"))
			uitest.MustContain(t, form, "<option>"+blank+"</option>")
			v := formValues(t, form.Body, "/admin/settings")
			v.Set("admin_group", blank)
			mark := s.log.Mark()
			p := b.Submit(form, "/admin/settings", v)
			if p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422:\n%s", p.Status, p.Body)
			}
			uitest.MustContain(t, p, tt.want)
			uitest.MustNotContain(t, p, "This change is not valid", "Deze wijziging is niet geldig")
			mustBeTiedToProblem(t, p, "admin_group", "admin-group-hint")
			var refused []string
			for _, line := range s.log.Since(mark) {
				if strings.Contains(line, `msg="console request refused"`) {
					refused = append(refused, line)
				}
			}
			want := `status=422 message=import.reason.group.nameText err="invalid input: admin group: a group name may not contain control characters`
			if len(refused) != 1 || !strings.Contains(refused[0], want) {
				t.Errorf("the refusal logged\n%s\nwant one line with %s", strings.Join(refused, "\n"), want)
			}
			if tn, _ := s.svc.Tenant(t.Context(), "acme"); tn.Settings.AdminGroup != tenant.DefaultAdminGroup {
				t.Errorf("the admin group is now %+q", tn.Settings.AdminGroup)
			}
		})
	}
}

func TestAuditPage(t *testing.T) {
	s := newStack(t)
	for i := range 3 {
		s.machineStart(t, "boss", fmt.Sprint("wrong-", i))
	}
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	s.user(t, "acme", tenant.NewUser{Username: "ann"})

	p := b.Get(s.url("acme", "/admin/audit"))
	uitest.MustContain(t, p, "Audit trail", "Sign-in failed", "wrong password", "Signed in to the console", "User created", "127.0.0.1")
	failed := b.Get(s.url("acme", "/admin/audit?action=signin.failure"))
	if n := strings.Count(failed.Body, "wrong password"); n != 3 {
		t.Errorf("%d failures listed, want 3", n)
	}
	uitest.MustNotContain(t, failed, `data-label="What">Signed in to the console`)
	byActor := b.Get(s.url("acme", "/admin/audit?actor=boss&action=console."))
	uitest.MustContain(t, byActor, `data-label="What">Signed in to the console`)
	today := time.Now().UTC().Format("2006-01-02")
	tomorrow := time.Now().UTC().Add(24 * time.Hour).Format("2006-01-02")
	uitest.MustContain(t, b.Get(s.url("acme", "/admin/audit?from="+today)), "User created")
	uitest.MustContain(t, b.Get(s.url("acme", "/admin/audit?from="+tomorrow)), "No events on this page match.")
	b.Header.Set("Accept-Language", "nl-NL")
	uitest.MustContain(t, b.Get(s.url("acme", "/admin/audit")), "Auditlog", "Inloggen mislukt", "verkeerd wachtwoord")
}

func TestImport(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	form := b.Get(s.url("acme", "/admin/import"))
	token := uitest.HiddenField(t, form, "csrf_token")
	upload := func(csv string, dryRun bool, tokenFirst bool) page {
		t.Helper()
		return postImport(s, b, token, csv, dryRun, tokenFirst)
	}
	csv := "cognito:username,email,email_verified,given_name,cognito:mfa_enabled\n" +
		"kim,kim@acme.example,TRUE,Kim,FALSE\n" +
		"lou,lou@acme.example,TRUE,Lou,FALSE\n" +
		"bad user,x@acme.example,TRUE,X,FALSE\n"
	dry := upload(csv, true, true)
	uitest.MustContain(t, dry, "Dry run report: nothing was changed", "Created", "Failed")
	if _, err := s.svc.FindUsers(t.Context(), "acme", tenant.UserQuery{Username: "kim"}); err != nil {
		t.Fatal(err)
	} else if users, _ := s.svc.FindUsers(t.Context(), "acme", tenant.UserQuery{Username: "kim"}); len(users.Users) != 0 {
		t.Error("the dry run wrote kim")
	}
	real := upload(csv, false, true)
	uitest.MustContain(t, real, "Import report", `id="count-created">2<`, `id="count-failed">1<`, ">kim<", "bad user")
	if users, _ := s.svc.FindUsers(t.Context(), "acme", tenant.UserQuery{Username: "kim"}); len(users.Users) != 1 {
		t.Error("kim was not imported")
	}
	ev, _ := s.svc.AuditLog(t.Context(), "acme", tenant.AuditQuery{Action: "user.import"})
	if len(ev.Events) != 1 || ev.Events[0].Details["created"] != "2" || ev.Events[0].Actor.Name != "boss" {
		t.Errorf("user.import events %+v", ev.Events)
	}
	if p := upload(csv, false, false); p.Status != http.StatusForbidden {
		t.Errorf("the file before the token: %d", p.Status)
	}
	notCSV := upload("hello\x00world", false, true)
	if notCSV.Status != http.StatusUnprocessableEntity {
		t.Errorf("not a CSV: %d", notCSV.Status)
	}
}

// A dry run's report links only users that are there: one it would
// create has no profile yet (the sub it shows is the one it would get),
// while one it would update or skip has. The real import links both.
func TestImportReportLinksOnlyUsersThatExist(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	ann := s.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@acme.example"})
	token := uitest.HiddenField(t, b.Get(s.url("acme", "/admin/import")), "csrf_token")
	csv := "cognito:username,email,email_verified,cognito:mfa_enabled\n" +
		"ann,ann@acme.example,true,false\n" +
		"newbie,newbie@acme.example,true,false\n"
	linkRE := regexp.MustCompile(`<a href="(/admin/users/[^"]+)">([^<]+)</a>`)
	links := func(p page) map[string]string {
		found := map[string]string{}
		for _, m := range linkRE.FindAllStringSubmatch(p.Body, -1) {
			found[m[2]] = m[1]
		}
		return found
	}
	dry := postImport(s, b, token, csv, true, true)
	uitest.MustContain(t, dry, "Dry run report: nothing was changed", ">newbie<")
	got := links(dry)
	if got["ann"] != "/admin/users/"+ann.Sub {
		t.Errorf("the dry run links ann to %q, want her profile", got["ann"])
	}
	if href, ok := got["newbie"]; ok {
		t.Errorf("the dry run links newbie, who is not there, to %s", href)
	}
	real := links(postImport(s, b, token, csv, false, true))
	if real["ann"] == "" || real["newbie"] == "" {
		t.Fatalf("the import links %v, want ann and newbie", real)
	}
	if p := b.Get(s.url("acme", real["newbie"])); p.Status != http.StatusOK {
		t.Errorf("newbie's profile after the import: %d", p.Status)
	}
}

// A browser sends a form's fields in the order of the page, the file
// among them: the dry-run switch is only read when it comes before the
// file, so the page must put it there, or a dry run imports for real.
func TestImportDryRunAsTheBrowserSendsIt(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	form := b.Get(s.url("acme", "/admin/import"))
	html := regexp.MustCompile(`(?s)<form method="post" action="/admin/import".*?</form>`).FindString(form.Body)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, m := range regexp.MustCompile(`<input [^>]*name="([^"]+)"[^>]*>`).FindAllStringSubmatch(html, -1) {
		switch m[1] {
		case "csrf_token":
			_ = mw.WriteField(m[1], uitest.HiddenField(t, form, "csrf_token"))
		case "file":
			fw, _ := mw.CreateFormFile("file", "users.csv")
			fw.Write([]byte("cognito:username,email,email_verified,given_name,cognito:mfa_enabled\nkim,kim@acme.example,TRUE,Kim,FALSE\n"))
		case "dry_run": // the box ticked
			_ = mw.WriteField(m[1], "on")
		default:
			t.Fatalf("unexpected field %q in the import form", m[1])
		}
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, s.url("acme", "/admin/import"), &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	p := b.Do(req)
	uitest.MustContain(t, p, "Dry run report: nothing was changed")
	if users, _ := s.svc.FindUsers(t.Context(), "acme", tenant.UserQuery{Username: "kim"}); len(users.Users) != 0 {
		t.Error("a dry run from the page imported kim")
	}
}

// postImport sends the import form with csv as its file, the form token
// before the file or after it.
func postImport(s *stack, b *browser, token, csv string, dryRun, tokenFirst bool) page {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	writeToken := func() { _ = mw.WriteField("csrf_token", token) }
	if tokenFirst {
		writeToken()
	}
	if dryRun {
		_ = mw.WriteField("dry_run", "on")
	}
	fw, _ := mw.CreateFormFile("file", "users.csv")
	fw.Write([]byte(csv))
	if !tokenFirst {
		writeToken()
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, s.url("acme", "/admin/import"), &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.Do(req)
}

// The import takes a Cognito JSON dump too (ListUsers, AdminGetUser), told
// from a CSV by its content as the file arrives, and keeps the users'
// subs; its report counts users, not lines.
func TestImportTakesAJSONDump(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	token := uitest.HiddenField(t, b.Get(s.url("acme", "/admin/import")), "csrf_token")
	const sub = "eaad0219-2117-439f-8d46-4db20e59268f"
	dump := "\ufeff\n" + `{"Users":[{"Username":"ann","Attributes":[{"Name":"sub","Value":"` + sub + `"},` +
		`{"Name":"email","Value":"ann@acme.example"},{"Name":"email_verified","Value":"true"}],` +
		`"Enabled":true,"UserStatus":"CONFIRMED"}],"PaginationToken":"abc"}`
	report := postImport(s, b, token, dump, false, true)
	if report.Status != http.StatusOK {
		t.Fatalf("status %d:\n%s", report.Status, report.Body)
	}
	uitest.MustContain(t, report, "Import report", `id="count-created">1<`, `<th scope="col">User</th>`, `href="/admin/users/`+sub+`"`)
	uitest.MustNotContain(t, report, "cannot be imported", "the header row")
	if u, err := s.svc.User(t.Context(), "acme", sub); err != nil || u.Username != "ann" {
		t.Errorf("ann under her Cognito sub: %+v, %v", u, err)
	}
	b.Header.Set("Accept-Language", "nl")
	uitest.MustContain(t, b.Get(s.url("acme", "/admin/import")), "CSV- of JSON-bestand", "JSON-dump van ListUsers")
}

// A Dutch admin reads the import report in Dutch: the reasons of failed
// lines and the notes of imported ones, which the importer gives as codes,
// not only the words the page is built of.
func TestImportReportInDutch(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	b.Header.Set("Accept-Language", "nl-NL")
	token := uitest.HiddenField(t, b.Get(s.url("acme", "/admin/import")), "csrf_token")
	csv := "cognito:username,email,email_verified,given_name,cognito:mfa_enabled\n" +
		"kim,kim@acme.example,TRUE,Kim,TRUE\n" +
		"bad user,x@acme.example,TRUE,X,FALSE\n" +
		"lou,lou@acme.example,TRUE\n"
	report := postImport(s, b, token, csv, false, true)
	uitest.MustContain(t, report, "Importverslag", `id="count-created">1<`, `id="count-failed">2<`,
		"MFA stond aan in Cognito en moet opnieuw worden ingesteld (Cognito exporteert geen MFA-geheimen); gemarkeerd met custom:mfa_reenroll",
		"de gebruikersnaam mag geen spaties bevatten",
		"de regel heeft 3 waarden, maar de kopregel heeft 5 kolommen")
	uitest.MustNotContain(t, report, "MFA was enabled in Cognito", "a username may not contain spaces", "values but the header has")

	// The same file in English reads as the admin API says it.
	b.Header.Set("Accept-Language", "en")
	dry := postImport(s, b, token, csv, true, true)
	uitest.MustContain(t, dry, "username: a username may not contain spaces", "the line has 3 values but the header has 5 columns",
		"marked with custom:mfa_reenroll")
	uitest.MustNotContain(t, dry, "gebruikersnaam", "kopregel")
}

// A file the importer refuses as a whole: the page says what is wrong, in
// the reader's reasons inside the page's own sentence, both in the
// administrator's language (the person who sent the file may read what it
// holds), and the log only that a file was refused, never a byte of it.
func TestImportRefusesAFileAndSaysWhy(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	token := uitest.HiddenField(t, b.Get(s.url("acme", "/admin/import")), "csrf_token")
	typo := "cognito:username,email,email_verified,given_name,cognito:mfa_enabled,phone_number,name,family_name,locale,emial\n" +
		"kim,kim@acme.example,TRUE,Kim,FALSE,,,,,\n"
	noHeader := "alice@example.com,S3cret-Passw0rd!,AKIAIOSFODNN7EXAMPLE\n"
	missing := "cognito:username,email,email_verified\nkim,kim@acme.example,TRUE\n"
	// English that must not reach a Dutch page: the reader's words for
	// each file below.
	english := []string{"cannot be imported", "the header row", "is not a Cognito attribute", "hold values", "is missing",
		"the file is empty", "column 10"}
	tests := []struct {
		name, lang, file string
		// want is what the page says; the reader's own words may change,
		// so only what is sure to stay in them (a column's name).
		want []string
		not  []string
	}{
		{"no header, secrets in the cells", "en", noHeader, []string{"This file cannot be imported:"}, nil},
		{"a typo in a column name", "en", typo, []string{"This file cannot be imported:", "column 10", "emial"}, nil},
		{"a required column missing", "en", missing, []string{"This file cannot be imported:", "cognito:mfa_enabled"}, nil},
		{"an empty file", "en", "", []string{"This file cannot be imported:"}, nil},
		{"a typo in Dutch", "nl", typo, []string{"Dit bestand kan niet worden geïmporteerd: de kopregel is niet die van Cognito: kolom 10: ",
			"emial", "is geen attribuut van Cognito"}, english},
		{"no header in Dutch", "nl", noHeader, []string{"Dit bestand kan niet worden geïmporteerd: de kopregel is niet die van Cognito: " +
			"kolommen 1, 2 en 3 bevatten waarden, geen kolomnamen", "de verplichte kolom cognito:username ontbreekt"},
			append([]string{"S3cret", "AKIA", "alice@"}, english...)},
		{"a required column missing in Dutch", "nl", missing,
			[]string{"Dit bestand kan niet worden geïmporteerd: de kopregel is niet die van Cognito: de verplichte kolom cognito:mfa_enabled ontbreekt."},
			english},
		{"an empty file in Dutch", "nl", "", []string{"Dit bestand kan niet worden geïmporteerd: het bestand is leeg; " +
			"een CSV-bestand van Cognito begint met een kopregel met de kolomnamen (GetCSVHeader)."}, english},
	}
	reasonRE := regexp.MustCompile(`(?s)id="problem">[^<:]*: ([^<]+)</div>`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.Header.Set("Accept-Language", tt.lang)
			p := postImport(s, b, token, tt.file, true, true)
			if p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422:\n%s", p.Status, p.Body)
			}
			uitest.MustContain(t, p, tt.want...)
			uitest.MustNotContain(t, p, tt.not...)
			uitest.MustNotContain(t, p, "its first line must be the header", "de eerste regel moet de kop")
			if m := reasonRE.FindStringSubmatch(p.Body); m == nil || strings.TrimSpace(m[1]) == "" {
				t.Errorf("the page names no reason:\n%s", p.Body)
			}
		})
	}
	b.Header.Set("Accept-Language", "en")
	logged := s.log.String()
	if n := strings.Count(logged, `msg="console request refused" host=acme.localhost:`+strconv.Itoa(s.port)+` client_ip=127.0.0.1 method=POST path=/admin/import status=422 message=problem.importFile`); n != len(tests) {
		t.Errorf("%d lines say a file was refused, want %d:\n%s", n, len(tests), logged)
	}
	for _, secret := range []string{"S3cret", "AKIA", "alice@example.com", "emial", "Username"} {
		if strings.Contains(logged, secret) {
			t.Errorf("the log holds %q, from a file:\n%s", secret, logged)
		}
	}
}

// A file the importer refuses part-way: the page says where and why, and
// which lines were written and stay and which were read but not written,
// as the admin API does, in the administrator's language.
func TestImportStoppedSaysWhyAndWhatWasWritten(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	token := uitest.HiddenField(t, b.Get(s.url("acme", "/admin/import")), "csrf_token")
	const header = "cognito:username,email,email_verified,cognito:mfa_enabled\n"
	var long strings.Builder
	long.WriteString(header)
	for i := range 1500 {
		fmt.Fprintf(&long, "imp%d,imp%d@acme.example,TRUE,FALSE\n", i, i)
	}
	cut := strings.TrimSuffix(long.String(), "\n") // 1,500 users, the last line without its line break
	short := header + "imp9,imp9@acme.example,TRUE,FALSE"
	broken := `[{"Username":"k1","Attributes":[]},` + "\n" + `{"Username":"k2",` + "\n" + `"Attributes":[]]`
	tests := []struct {
		name, lang, file string
		dryRun           bool
		want             string
	}{
		{"a CSV cut short after a batch", "en", cut, false, "The import stopped at line 1501: the last line has no line break at its end, " +
			"so the file may have been cut short; if it is whole, add a line break at its end and import it again. " +
			"Lines 2 to 1001 were imported and stay. Lines 1002 to 1500 were read but not written: lines are written 1000 at a time, " +
			"and the import stopped in that batch. Fix the file and import it again, which is safe."},
		{"the same in Dutch", "nl", cut, false, "Het importeren is gestopt bij regel 1501: de laatste regel eindigt niet met een regeleinde, " +
			"dus het bestand is misschien afgekapt; als het volledig is, zet dan een regeleinde achter de laatste regel en importeer het opnieuw. " +
			"Regels 2 tot en met 1001 zijn geïmporteerd en blijven staan. Regels 1002 tot en met 1500 zijn gelezen maar niet geschreven: " +
			"regels worden per 1000 tegelijk geschreven, en het importeren stopte in die groep. Herstel het bestand en importeer het opnieuw; dat is veilig."},
		{"a short CSV cut short", "en", short, false, "The import stopped at line 2: the last line has no line break at its end, " +
			"so the file may have been cut short; if it is whole, add a line break at its end and import it again. " +
			"Nothing was written. Fix the file and import it again, which is safe."},
		{"a dry run", "en", short, true, "The import stopped at line 2: the last line has no line break at its end, " +
			"so the file may have been cut short; if it is whole, add a line break at its end and import it again. Fix the file and check it again."},
		{"JSON broken after its first user", "en", broken, false, "The import stopped after user 1: the file is not valid JSON at line 3, column 16. " +
			"Nothing was written. Users 1 to 1 were read but not written: users are written 1000 at a time, and the import stopped in that batch. " +
			"Fix the file and import it again, which is safe."},
		{"the same in Dutch", "nl", broken, false, "Het importeren is gestopt na gebruiker 1: het bestand is geen geldige JSON op regel 3, kolom 16. " +
			"Er is niets geschreven. Gebruikers 1 tot en met 1 zijn gelezen maar niet geschreven: gebruikers worden per 1000 tegelijk geschreven, " +
			"en het importeren stopte in die groep. Herstel het bestand en importeer het opnieuw; dat is veilig."},
	}
	problemRE := regexp.MustCompile(`(?s)id="problem">([^<]+)</div>`)
	for _, tt := range tests {
		t.Run(tt.name+" ("+tt.lang+")", func(t *testing.T) {
			b.Header.Set("Accept-Language", tt.lang)
			p := postImport(s, b, token, tt.file, tt.dryRun, true)
			if p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422:\n%s", p.Status, p.Body)
			}
			m := problemRE.FindStringSubmatch(p.Body)
			if m == nil {
				t.Fatalf("no problem on the page:\n%s", p.Body)
			}
			if got := strings.TrimSpace(html.UnescapeString(m[1])); got != tt.want {
				t.Errorf("the page says\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
	b.Header.Set("Accept-Language", "en")
	if n := strings.Count(s.log.String(), "status=422 message=problem.importStopped.line"); n != 4 {
		t.Errorf("%d lines say a CSV was refused at a line, want 4:\n%s", n, s.log.String())
	}
}

// What the importer says of the file as a whole (a byte order mark it
// skipped) is on the report, in the administrator's language.
func TestImportShowsWarnings(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	token := uitest.HiddenField(t, b.Get(s.url("acme", "/admin/import")), "csrf_token")
	csv := "\xef\xbb\xbfcognito:username,email,email_verified,cognito:mfa_enabled\nkim,kim@acme.example,TRUE,FALSE\n"
	for _, tt := range []struct{ lang, lead, warning, not string }{
		{"en", "About the file as a whole:",
			"<li>the file starts with a UTF-8 byte order mark (BOM), which Cognito&#39;s import refuses; it was ignored</li>", "bytevolgorde"},
		{"nl", "Over het bestand als geheel",
			"<li>het bestand begint met een UTF-8-bytevolgordemarkering (BOM), die de import van Cognito weigert; die is genegeerd</li>",
			"byte order mark"},
	} {
		b.Header.Set("Accept-Language", tt.lang)
		p := postImport(s, b, token, csv, true, true)
		if p.Status != http.StatusOK {
			t.Fatalf("%s: status %d:\n%s", tt.lang, p.Status, p.Body)
		}
		uitest.MustContain(t, p, `id="import-warnings"`, tt.lead, tt.warning, `id="count-created">1<`)
		uitest.MustNotContain(t, p, tt.not)
	}
}

// The lockout duration is kept in seconds, the form shows minutes: an
// administrator who saves the form without touching the field keeps the
// duration as it was, whatever was set through the admin API.
func TestSettingsKeepWhatWasNotChanged(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	tests := []struct {
		name    string
		stored  time.Duration
		minutes string // typed into the field; "" leaves it as shown
		want    time.Duration
	}{
		{"90 seconds, untouched", 90 * time.Second, "", 90 * time.Second},
		{"150 seconds, untouched", 150 * time.Second, "", 150 * time.Second},
		{"whole minutes, untouched", 30 * time.Minute, "", 30 * time.Minute},
		{"90 seconds, changed", 90 * time.Second, "5", 5 * time.Minute},
		{"90 seconds, changed to what the field showed plus one", 90 * time.Second, "2", 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lockout := tenant.LockoutPolicy{MaxFailures: 5, LockDuration: tt.stored}
			if _, err := s.svc.UpdateTenant(t.Context(), "acme", tenant.TenantChange{Settings: tenant.SettingsChange{Lockout: &lockout}}); err != nil {
				t.Fatal(err)
			}
			form := b.Get(s.url("acme", "/admin/settings"))
			values := formValues(t, form.Body, "/admin/settings")
			values.Set("name", "Acme "+tt.name) // another setting changes
			if tt.minutes != "" {
				values.Set("lock_minutes", tt.minutes)
			}
			saved := b.Post(s.url("acme", "/admin/settings"), values)
			if saved.Status != http.StatusSeeOther {
				t.Fatalf("save: %d\n%s", saved.Status, saved.Body)
			}
			tn, _ := s.svc.Tenant(t.Context(), "acme")
			if tn.Name != "Acme "+tt.name || tn.Settings.Lockout.LockDuration != tt.want {
				t.Errorf("after saving: name %q, lock duration %s; want %s", tn.Name, tn.Settings.Lockout.LockDuration, tt.want)
			}
		})
	}
}

var (
	formFieldRE = regexp.MustCompile(`<input id="[^"]*" name="([^"]+)" type="(?:text|url|number|email)"[^>]*? value="([^"]*)"`)
	formCheckRE = regexp.MustCompile(`<input type="(?:checkbox|radio)"(?: role="[^"]*")? id="[^"]*" name="([^"]+)" value="([^"]*)"([^>]*)>`)
	selectRE    = regexp.MustCompile(`(?s)<select id="[^"]*" name="([^"]+)"[^>]*>(.*?)</select>`)
	optionRE    = regexp.MustCompile(`<option(?: value="([^"]*)")?([^>]*)>([^<]*)</option>`)
	textareaRE  = regexp.MustCompile(`(?s)<textarea id="[^"]*" name="([^"]+)"[^>]*>(.*?)</textarea>`)
)

// formValues reads the values a browser would send with the form of body
// whose action is action, untouched: its hidden fields, text, url and
// number fields, textareas (as a browser reads and sends them: without the
// line break after the start tag, each line break as CRLF), ticked boxes
// and chosen options. It knows the markup of the console's templates, not
// HTML at large.
func formValues(t *testing.T, body, action string) url.Values {
	t.Helper()
	form := regexp.MustCompile(`(?s)<form method="post" action="` + regexp.QuoteMeta(action) + `"[^>]*>.*?</form>`).FindString(body)
	if form == "" {
		t.Fatalf("no form with action %s:\n%s", action, body)
	}
	values := uitest.HiddenFields(form)
	for _, m := range formFieldRE.FindAllStringSubmatch(form, -1) {
		values.Add(m[1], html.UnescapeString(m[2]))
	}
	for _, m := range textareaRE.FindAllStringSubmatch(form, -1) {
		text := strings.TrimPrefix(html.UnescapeString(m[2]), "\n")
		values.Add(m[1], strings.ReplaceAll(text, "\n", "\r\n"))
	}
	for _, m := range formCheckRE.FindAllStringSubmatch(form, -1) {
		if strings.Contains(m[3], " checked") {
			values.Add(m[1], html.UnescapeString(m[2]))
		}
	}
	for _, sel := range selectRE.FindAllStringSubmatch(form, -1) {
		for _, o := range optionRE.FindAllStringSubmatch(sel[2], -1) {
			if strings.Contains(o[2], " selected") {
				v := o[3]
				if strings.Contains(o[0], ` value="`) {
					v = o[1]
				}
				values.Add(sel[1], html.UnescapeString(v))
			}
		}
	}
	return values
}

// A user, group or application that is not (or no longer) there: the page
// says which, and leads back to its list.
func TestNotFoundLeadsBackToItsList(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	tests := []struct {
		name, path, text, link string
	}{
		{"user", "/admin/users/no-such-sub", "This user does not exist (any more)", `href="/admin/users">Users</a>`},
		{"user's edit form", "/admin/users/no-such-sub/edit", "This user does not exist (any more)", `href="/admin/users">Users</a>`},
		{"group", "/admin/groups/gone", "This group does not exist (any more)", `href="/admin/groups">Groups</a>`},
		{"group's deletion", "/admin/groups/gone/delete", "This group does not exist (any more)", `href="/admin/groups">Groups</a>`},
		{"application", "/admin/clients/gone", "This application does not exist (any more)", `href="/admin/clients">Applications</a>`},
		{"application's deletion", "/admin/clients/gone/delete", "This application does not exist (any more)", `href="/admin/clients">Applications</a>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.Get(s.url("acme", tt.path))
			if p.Status != http.StatusNotFound {
				t.Fatalf("status %d", p.Status)
			}
			uitest.MustContain(t, p, tt.text, `<a class="button primary" `+tt.link)
		})
	}
	// A group deleted while its page was open: what the page's forms
	// then send ends on the groups list as well.
	if _, err := s.svc.CreateGroup(t.Context(), "acme", tenant.Group{Name: "temp"}); err != nil {
		t.Fatal(err)
	}
	page := b.Get(s.url("acme", "/admin/groups/temp"))
	if err := s.svc.DeleteGroup(t.Context(), "acme", "temp"); err != nil {
		t.Fatal(err)
	}
	p := b.Submit(page, "/admin/groups/temp/edit", url.Values{"name": {"temp2"}})
	if p.Status != http.StatusNotFound {
		t.Fatalf("edit a deleted group: %d", p.Status)
	}
	uitest.MustContain(t, p, "This group does not exist (any more)", `<a class="button primary" href="/admin/groups">Groups</a>`)
}

// Adding a member by an email address more than one user has: the page
// says so and names them, so the administrator can type a username.
func TestAddMemberByASharedAddress(t *testing.T) {
	s := newStack(t)
	s.user(t, "acme", tenant.NewUser{Username: "u5b", Email: "u5@example.com"})
	s.user(t, "acme", tenant.NewUser{Username: "u5a", Email: "U5@example.com"})
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	for _, tt := range []struct{ lang, want string }{
		{"en", "More than one user has the address “u5@example.com”: u5a, u5b. Type the username of the one to add."},
		{"nl", "Meer dan één gebruiker heeft het adres “u5@example.com”: u5a, u5b. Typ de gebruikersnaam van wie u wilt toevoegen."},
	} {
		b.Header.Set("Accept-Language", tt.lang)
		group := b.Get(s.url("acme", "/admin/groups/admins"))
		p := b.Submit(group, "/admin/groups/admins/members", url.Values{"login": {"u5@example.com"}})
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("%s: status %d", tt.lang, p.Status)
		}
		uitest.MustContain(t, p, tt.want)
		uitest.MustNotContain(t, p, "There is no user", "Er is geen gebruiker")
		if got := invalidField(p); got != "login" {
			t.Errorf("%s: the field marked invalid is %q", tt.lang, got)
		}
	}
	if g, _ := s.svc.GroupMembers(t.Context(), "acme", "admins", "", 10); len(g.Users) != 1 {
		t.Errorf("admins has %d members, want boss alone", len(g.Users))
	}
}

// An address that more users share than the page names: it names the
// first ten by sub (the page of users the search reads; their usernames
// in order) and says there are more.
func TestAddMemberByAnAddressManyShare(t *testing.T) {
	s := newStack(t)
	var names []string
	for i := range maxNamedUsersForTest + 2 {
		u := s.user(t, "acme", tenant.NewUser{Username: fmt.Sprintf("m%02d", i), Email: "many@example.com"})
		names = append(names, u.Sub+" "+u.Username)
	}
	slices.Sort(names)
	var shown []string
	for _, n := range names[:maxNamedUsersForTest] {
		shown = append(shown, strings.Fields(n)[1])
	}
	slices.Sort(shown)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	group := b.Get(s.url("acme", "/admin/groups/admins"))
	p := b.Submit(group, "/admin/groups/admins/members", url.Values{"login": {"many@example.com"}})
	if p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", p.Status)
	}
	uitest.MustContain(t, p, "More than one user has the address “many@example.com”: "+strings.Join(shown, ", ")+", …. Type the username of the one to add.")
}

// maxNamedUsersForTest is groups.go's maxNamedUsers.
const maxNamedUsersForTest = 10

// A public client has no secret: a request to rotate one (no page offers
// it) says so.
func TestRotateTheSecretOfAPublicClient(t *testing.T) {
	s := newStack(t)
	cl, _, err := s.svc.CreateClient(t.Context(), "acme", tenant.NewClient{Name: "SPA", Public: true, RedirectURIs: []string{"https://spa.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	for _, tt := range []struct{ lang, want string }{
		{"en", "This is a public application: it has no client secret to rotate."},
		{"nl", "Dit is een openbare applicatie: die heeft geen clientgeheim om te vernieuwen."},
	} {
		b.Header.Set("Accept-Language", tt.lang)
		page := b.Get(s.url("acme", "/admin/clients/"+cl.ID))
		uitest.MustNotContain(t, page, `/secret"`)
		p := b.PostForm(page, "/admin/clients/"+cl.ID+"/secret", nil)
		if p.Status != http.StatusConflict {
			t.Fatalf("%s: status %d", tt.lang, p.Status)
		}
		uitest.MustContain(t, p, tt.want, `<h1>SPA</h1>`)
		uitest.MustNotContain(t, p, "This change is not valid", `id="secret"`)
	}
	if after, _ := s.svc.Client(t.Context(), "acme", cl.ID); !after.Public() {
		t.Error("the public client got a secret")
	}
}

// The audit trail's details name their facts in the page's language; the
// values are the record's.
func TestAuditDetailsInTheAdministratorsLanguage(t *testing.T) {
	s := newStack(t)
	ann := s.user(t, "acme", tenant.NewUser{Username: "ann"})
	email := "ann@acme.example"
	ctx := tenant.WithActor(t.Context(), tenant.Actor{Kind: tenant.ActorOperator})
	if _, err := s.svc.UpdateUser(ctx, "acme", ann.Sub, tenant.UserChange{Email: &email}); err != nil {
		t.Fatal(err)
	}
	if err := s.svc.AddUserToGroup(ctx, "acme", "admins", ann.Sub); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	tests := []struct {
		lang           string
		want, unwanted []string
	}{
		{"en", []string{"fields: email", "group: admins", "status: UNCONFIRMED", "methods: pwd"}, nil},
		{"nl", []string{"velden: email", "groep: admins", "status: UNCONFIRMED", "methoden: pwd"},
			[]string{"fields: ", "group: ", "amr: "}},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			b.Header.Set("Accept-Language", tt.lang)
			p := b.Get(s.url("acme", "/admin/audit"))
			uitest.MustContain(t, p, tt.want...)
			uitest.MustNotContain(t, p, tt.unwanted...)
		})
	}
}

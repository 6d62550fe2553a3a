package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/ui/uitest"
)

func ptr[T any](v T) *T { return &v }

// An edit form opened before someone else changed the user is refused
// when saved, whatever changed meanwhile: saving it would put back what
// the old page showed. The user stays as the other change left them, the
// page shows them as they are now with what was sent beside it, and a save
// from that page goes through.
func TestStaleUserFormIsRefused(t *testing.T) {
	s := newStack(t)
	if _, err := s.svc.CreateGroup(t.Context(), "acme", tenant.Group{Name: "sales"}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	tests := []struct {
		name string
		// meanwhile is the other change, made after the page was opened.
		meanwhile tenant.UserChange
		// check says what of the other change must still be there.
		check  func(u tenant.User) bool
		listed string // a row of the list of what was sent
	}{
		{"disabled meanwhile", tenant.UserChange{Enabled: ptr(false)},
			func(u tenant.User) bool { return !u.Enabled }, "<th scope=\"row\">Status</th><td class=\"wrap\">on</td><td class=\"wrap\">off</td>"},
		{"an attribute changed meanwhile", tenant.UserChange{Attributes: map[string]*string{"given_name": ptr("Robert")}},
			func(u tenant.User) bool { return u.Attributes["given_name"] == "Robert" }, "<td class=\"wrap\">Bob</td><td class=\"wrap\">Robert</td>"},
		{"made an administrator meanwhile", tenant.UserChange{Groups: &[]string{"admins", "sales"}},
			func(u tenant.User) bool { return slices.Contains(u.Groups, "admins") }, "<td class=\"wrap\">sales</td><td class=\"wrap\">admins, sales</td>"},
		{"address removed meanwhile", tenant.UserChange{Attributes: map[string]*string{"address": nil}},
			func(u tenant.User) bool { _, had := u.Attributes["address"]; return !had }, "<td class=\"wrap\">(empty)</td>"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := s.user(t, "acme", tenant.NewUser{Username: fmt.Sprintf("bob%d", i), Email: fmt.Sprintf("bob%d@acme.example", i),
				Password: newPassword, Groups: []string{"sales"},
				Attributes: map[string]string{"given_name": "Bob", "address": "Keizersgracht 1\n1015 CJ Amsterdam"}})
			edit := "/admin/users/" + u.Sub + "/edit"
			form := b.Get(s.url("acme", edit))
			sent := formValues(t, form.Body, edit)
			if sent.Get("active") != "on" {
				t.Fatalf("the form of an active user sends %v", sent)
			}
			if _, err := s.svc.UpdateUser(t.Context(), "acme", u.Sub, tt.meanwhile); err != nil {
				t.Fatal(err)
			}
			sent.Set("attr.family_name", "Builder") // the one change made in the old tab
			p := b.Post(s.url("acme", edit), sent)
			if p.Status != http.StatusConflict {
				t.Fatalf("a stale form: status %d, want 409\n%s", p.Status, p.Body)
			}
			uitest.MustContain(t, p, "This user was changed by someone else since you opened this page. Nothing was saved",
				tt.listed, `<td class="wrap">Builder</td>`)
			after, _ := s.svc.User(t.Context(), "acme", u.Sub)
			if !tt.check(after) || after.Attributes["family_name"] != "" {
				t.Fatalf("after the stale form: %+v", after)
			}

			// The page shows the user as they are now, so a save from it
			// changes only what is changed in it.
			fresh := formValues(t, p.Body, edit)
			fresh.Set("attr.family_name", "Builder")
			if saved := b.Post(s.url("acme", edit), fresh); saved.Status != http.StatusSeeOther {
				t.Fatalf("saving the form shown with the conflict: %d\n%s", saved.Status, saved.Body)
			}
			after, _ = s.svc.User(t.Context(), "acme", u.Sub)
			if !tt.check(after) || after.Attributes["family_name"] != "Builder" {
				t.Errorf("after saving the current form: %+v", after)
			}
		})
	}
}

// The version is what the form shows, not the record's UpdatedAt, which
// moves at every sign-in: a change the form does not show leaves it good.
// A form without a version (a hand-made post) is refused as stale.
func TestUserFormVersionIsWhatItShows(t *testing.T) {
	s := newStack(t)
	u := s.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@acme.example", Password: newPassword})
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	edit := "/admin/users/" + u.Sub + "/edit"
	sent := formValues(t, b.Get(s.url("acme", edit)).Body, edit)
	// UpdatedAt only, as a sign-in moves it (UpdateUser writes nothing
	// for a change that changes nothing).
	err := s.store.Update(t.Context(), func(tx tenant.Tx) error {
		stored, err := tenant.GetUser(tx, "acme", u.Sub)
		if err != nil {
			return err
		}
		stored.UpdatedAt = stored.UpdatedAt.Add(time.Minute)
		return tenant.UpdateUser(tx, "acme", stored)
	})
	if err != nil {
		t.Fatal(err)
	}
	if after, _ := s.svc.User(t.Context(), "acme", u.Sub); after.UpdatedAt.Equal(u.UpdatedAt) {
		t.Fatal("the test's change did not move UpdatedAt")
	}
	sent.Set("attr.nickname", "Annie")
	if p := b.Post(s.url("acme", edit), sent); p.Status != http.StatusSeeOther {
		t.Fatalf("a form whose user's UpdatedAt moved: %d\n%s", p.Status, p.Body)
	}
	sent = formValues(t, b.Get(s.url("acme", edit)).Body, edit)
	sent.Del("version")
	sent.Set("attr.nickname", "Nan")
	if p := b.Post(s.url("acme", edit), sent); p.Status != http.StatusConflict {
		t.Fatalf("a form without a version: %d", p.Status)
	}
	if after, _ := s.svc.User(t.Context(), "acme", u.Sub); after.Attributes["nickname"] != "Annie" {
		t.Errorf("nickname %q", after.Attributes["nickname"])
	}
}

// A save changes only what the administrator changed: a multi-line
// address (a textarea, not a one-line field that drops line breaks) and
// values with spaces around them, as the admin API or an import set them,
// stay as they are.
func TestEditFormKeepsValuesNotTouched(t *testing.T) {
	s := newStack(t)
	stored := map[string]string{"address": "Keizersgracht 1\n1015 CJ Amsterdam\nNederland", "nickname": "  Annie ",
		"custom:note": "first line\nsecond line"}
	u := s.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@acme.example", Attributes: stored})
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	edit := "/admin/users/" + u.Sub + "/edit"
	form := b.Get(s.url("acme", edit))
	uitest.MustContain(t, form, "<textarea id=\"attr-address\" name=\"attr.address\" class=\"text\" rows=\"3\" autocomplete=\"off\" maxlength=\"2048\">\nKeizersgracht 1\n1015 CJ Amsterdam\nNederland</textarea>",
		"<textarea id=\"attr-custom:note\" name=\"attr.custom:note\"")
	sent := formValues(t, form.Body, edit)
	if !strings.Contains(sent.Get("attr.address"), "\r\n") {
		t.Fatalf("the address as the browser sends it: %q", sent.Get("attr.address"))
	}
	sent.Set("attr.given_name", " Ann ") // typed: spaces around it go
	if p := b.Post(s.url("acme", edit), sent); p.Status != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", p.Status, p.Body)
	}
	after, _ := s.svc.User(t.Context(), "acme", u.Sub)
	for name, want := range stored {
		if after.Attributes[name] != want {
			t.Errorf("%s: %q, want %q as stored", name, after.Attributes[name], want)
		}
	}
	if after.Attributes["given_name"] != "Ann" {
		t.Errorf("given_name %q", after.Attributes["given_name"])
	}
	trail, _ := s.svc.AuditLog(t.Context(), "acme", tenant.AuditQuery{Target: u.Sub, Action: string(tenant.AuditUserUpdate)})
	if len(trail.Events) != 1 || trail.Events[0].Details["fields"] != "given_name" {
		t.Errorf("user.update events %+v", trail.Events)
	}
}

// The same in Chromium: a tab opened before the user was disabled saves
// nothing and leaves the user disabled; the address keeps its lines.
func TestBrowserStaleEditTab(t *testing.T) {
	browser := chrome(t)
	s := newStack(t)
	address := "Keizersgracht 1\n1015 CJ Amsterdam\nNederland"
	carol := s.user(t, "acme", tenant.NewUser{Username: "carol", Email: "carol@acme.example", Password: newPassword,
		Attributes: map[string]string{"address": address}})
	watchConsole(t, browser)
	ctx, cancel := context.WithTimeout(browser, 30*time.Second)
	defer cancel()
	must(t, "open the console", chromedp.Do(ctx, chromedp.Navigate(s.url("acme", "/admin"))))
	signInBrowser(t, ctx, "boss", adminPassword)
	must(t, "reach the users", waitForPath(ctx, "/admin/users"))

	edit := "/admin/users/" + carol.Sub + "/edit"
	must(t, "open the edit form", chromedp.Do(ctx, chromedp.Navigate(s.url("acme", edit))))
	must(t, "reach the edit form", waitForPath(ctx, edit))
	if _, err := s.svc.UpdateUser(t.Context(), "acme", carol.Sub, tenant.UserChange{Enabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	must(t, "change the nickname and save", chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("attr-nickname"), "Caz"),
		chromedp.Click(chromedp.ID("save")),
	))
	must(t, "see the conflict", uitest.WaitUntil(ctx, `document.querySelector("#problem table.unsaved") !== null`))
	if got := text(t, ctx, "#problem"); !strings.Contains(got, "changed by someone else") || !strings.Contains(got, "Caz") {
		t.Errorf("problem %q", got)
	}
	// No field is wrong: the problem itself, with what was sent, has the
	// focus.
	mustHaveFocus(t, ctx, "problem")
	on, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("active").checked`))
	must(t, "read the switch", err)
	if on {
		t.Error("the form shown with the conflict has the status on: the user is disabled now")
	}
	after, _ := s.svc.User(t.Context(), "acme", carol.Sub)
	if after.Enabled || after.Attributes["nickname"] != "" {
		t.Fatalf("a stale tab changed carol: enabled %v, attributes %v", after.Enabled, after.Attributes)
	}

	// Saved again from the page now shown: the nickname, nothing else.
	must(t, "save again", chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("attr-nickname"), "Caz"),
		chromedp.Click(chromedp.ID("save")),
	))
	must(t, "back on the profile", waitForPath(ctx, "/admin/users/"+carol.Sub))
	after, _ = s.svc.User(t.Context(), "acme", carol.Sub)
	if after.Enabled || after.Attributes["nickname"] != "Caz" || after.Attributes["address"] != address {
		t.Errorf("carol after the save: enabled %v, attributes %q", after.Enabled, after.Attributes)
	}
}

// The settings form: a tab opened before another administrator changed
// the password policy is refused when saved, and sets nothing back.
func TestStaleSettingsFormIsRefused(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	form := b.Get(s.url("acme", "/admin/settings"))
	sent := formValues(t, form.Body, "/admin/settings")
	policy := tenant.SettingsChange{PasswordPolicy: &tenant.PasswordPolicyChange{MinimumLength: ptr(12)},
		Lockout: &tenant.LockoutPolicy{MaxFailures: 3, LockDuration: 15 * time.Minute}}
	if _, err := s.svc.UpdateTenant(t.Context(), "acme", tenant.TenantChange{Settings: policy}); err != nil {
		t.Fatal(err)
	}
	sent.Set("primary_color", "#0a7d4f")
	p := b.Post(s.url("acme", "/admin/settings"), sent)
	if p.Status != http.StatusConflict {
		t.Fatalf("a stale settings form: %d\n%s", p.Status, p.Body)
	}
	uitest.MustContain(t, p, "These settings were changed by someone else since you opened this page.",
		`<th scope="row">Minimum length</th><td class="wrap">8</td><td class="wrap">12</td>`,
		`<td class="wrap">#0a7d4f</td><td class="wrap">(empty)</td>`, `value="12"`)
	check := func(color string) {
		t.Helper()
		tn, _ := s.svc.Tenant(t.Context(), "acme")
		st := tn.Settings
		if st.PasswordPolicy.MinimumLength != 12 || st.Lockout.MaxFailures != 3 || st.Branding.PrimaryColor != color {
			t.Errorf("settings: minimum length %d, failures %d, colour %q", st.PasswordPolicy.MinimumLength, st.Lockout.MaxFailures, st.Branding.PrimaryColor)
		}
	}
	check("")
	fresh := formValues(t, p.Body, "/admin/settings")
	fresh.Set("primary_color", "#0a7d4f")
	if saved := b.Post(s.url("acme", "/admin/settings"), fresh); saved.Status != http.StatusSeeOther {
		t.Fatalf("saving the settings shown with the conflict: %d\n%s", saved.Status, saved.Body)
	}
	check("#0a7d4f")
}

// The organization's name is counted in characters, as the service counts
// it: a name of 100 "é" (200 bytes) can be saved, and one the operator set
// does not keep the other settings from being saved.
func TestSettingsNameInCharacters(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	long := strings.Repeat("é", 100)
	if _, err := s.svc.UpdateTenant(t.Context(), "acme", tenant.TenantChange{Name: &long}); err != nil {
		t.Fatal(err)
	}
	sent := formValues(t, b.Get(s.url("acme", "/admin/settings")).Body, "/admin/settings")
	sent.Set("history_size", "3")
	if p := b.Post(s.url("acme", "/admin/settings"), sent); p.Status != http.StatusSeeOther {
		t.Fatalf("saving the password history beside a name of 100 é: %d\n%s", p.Status, p.Body)
	}
	tn, _ := s.svc.Tenant(t.Context(), "acme")
	if tn.Name != long || tn.Settings.PasswordPolicy.HistorySize != 3 {
		t.Errorf("name %q, history %d", tn.Name, tn.Settings.PasswordPolicy.HistorySize)
	}
	for _, tc := range []struct {
		name   string
		status int
	}{{strings.Repeat("ë", 128), http.StatusSeeOther}, {strings.Repeat("ë", 129), http.StatusUnprocessableEntity}} {
		sent := formValues(t, b.Get(s.url("acme", "/admin/settings")).Body, "/admin/settings")
		sent.Set("name", tc.name)
		if p := b.Post(s.url("acme", "/admin/settings"), sent); p.Status != tc.status {
			t.Errorf("a name of %d characters: %d, want %d", len([]rune(tc.name)), p.Status, tc.status)
		}
	}
}

// A group deleted or renamed after a form was opened is named in the
// problem, not "this change is not valid".
func TestGroupGoneMeanwhileIsNamed(t *testing.T) {
	s := newStack(t)
	for _, g := range []string{"temps", "owners"} {
		if _, err := s.svc.CreateGroup(t.Context(), "acme", tenant.Group{Name: g}); err != nil {
			t.Fatal(err)
		}
	}
	u := s.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@acme.example"})
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	edit := "/admin/users/" + u.Sub + "/edit"
	userForm := formValues(t, b.Get(s.url("acme", edit)).Body, edit)
	newForm := b.Get(s.url("acme", "/admin/users/new"))
	settingsForm := formValues(t, b.Get(s.url("acme", "/admin/settings")).Body, "/admin/settings")
	if err := s.svc.DeleteGroup(t.Context(), "acme", "temps"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.UpdateGroup(t.Context(), "acme", "owners", tenant.GroupChange{Name: ptr("proprietors")}); err != nil {
		t.Fatal(err)
	}
	want := "There is no group “temps” any more: it was deleted or renamed since this page was made."
	userForm.Set("groups", "temps")
	if p := b.Post(s.url("acme", edit), userForm); p.Status != http.StatusUnprocessableEntity {
		t.Errorf("user form: %d", p.Status)
	} else {
		uitest.MustContain(t, p, want)
	}
	if p := b.Submit(newForm, "/admin/users/new", map[string][]string{"username": {"bea"}, "groups": {"temps"}}); p.Status != http.StatusUnprocessableEntity {
		t.Errorf("new user form: %d", p.Status)
	} else {
		uitest.MustContain(t, p, want)
	}
	// boss is in no other group than admins; the settings' admin group is
	// checked for existence before membership.
	settingsForm.Set("admin_group", "owners")
	if p := b.Post(s.url("acme", "/admin/settings"), settingsForm); p.Status != http.StatusUnprocessableEntity {
		t.Errorf("settings form: %d", p.Status)
	} else {
		uitest.MustContain(t, p, "There is no group “owners” any more")
	}
}

// While the members of a large group renamed a moment ago still move (no
// mover runs here), what would clash with the move is refused in the form
// the administrator used, not on an error page: with 409, a sentence that
// says which clash and to wait, in English and Dutch, and what was typed
// kept. Once the members have moved, the same forms go through.
func TestGroupFormsWhileMembersMove(t *testing.T) {
	s := newStack(t)
	s.svc.GroupMoveQueued = func() {} // no mover: the move stays unfinished
	ctx := t.Context()
	for _, g := range []string{"ops", "staff"} {
		if _, err := s.svc.CreateGroup(ctx, "acme", tenant.Group{Name: g}); err != nil {
			t.Fatal(err)
		}
	}
	err := s.store.Update(ctx, func(tx tenant.Tx) error {
		for i := range 1001 { // more than one batch: the rename leaves a move
			u := tenant.User{Sub: fmt.Sprintf("sub-%04d", i), Username: fmt.Sprintf("u%04d", i), Groups: []string{"ops"}}
			if err := tenant.InsertUser(tx, "acme", u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.UpdateGroup(ctx, "acme", "ops", tenant.GroupChange{Name: ptr("team")}); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	nameMoving := map[string]string{
		"en": "The name “ops” belonged to a group renamed or deleted a moment ago, whose members are still being moved. Try again in a moment.",
		"nl": "De naam “ops” hoorde bij een groep die zojuist is hernoemd of verwijderd, en de leden daarvan worden nog verplaatst. Probeer het zo nog eens.",
	}
	membersMoving := map[string]string{
		"en": "This group's members are still being moved to it after its last rename. Try again in a moment.",
		"nl": "De leden van deze groep worden nog naar de nieuwe naam verplaatst na de laatste naamswijziging. Probeer het zo nog eens.",
	}
	typed := func(name string) url.Values {
		return url.Values{"name": {name}, "description": {"Typed, not saved"}, "precedence": {"4"}}
	}
	for _, lang := range []string{"en", "nl"} {
		b.Header.Set("Accept-Language", lang)
		for _, tc := range []struct {
			what, at, action string
			sent             url.Values
			problem, field   string
		}{
			{"a new group with the old name", "/admin/groups", "/admin/groups", typed("ops"), nameMoving[lang], "name"},
			{"another group renamed to the old name", "/admin/groups/staff", "/admin/groups/staff/edit", typed("ops"), nameMoving[lang], "name"},
			{"the group renamed again", "/admin/groups/team", "/admin/groups/team/edit", typed("crew"), membersMoving[lang], ""},
			{"the group deleted", "/admin/groups/team/delete", "/admin/groups/team/delete", nil, membersMoving[lang], ""},
		} {
			p := b.Submit(b.Get(s.url("acme", tc.at)), tc.action, tc.sent)
			if p.Status != http.StatusConflict {
				t.Errorf("%s, %s: status %d, want 409:\n%s", lang, tc.what, p.Status, p.Body)
				continue
			}
			uitest.MustContain(t, p, tc.problem)
			if tc.sent != nil {
				uitest.MustContain(t, p, `value="`+tc.sent.Get("name")+`"`, ">Typed, not saved</textarea>", `value="4"`)
			}
			if tc.field != "" {
				mustBeTiedToProblem(t, p, tc.field)
			} else if got := invalidField(p); got != "" {
				t.Errorf("%s, %s: the field %q is marked invalid", lang, tc.what, got)
			}
		}
	}
	b.Header.Set("Accept-Language", "en")
	for _, g := range []string{"team", "staff"} {
		if got, err := s.svc.Group(ctx, "acme", g); err != nil || got.Description != "" {
			t.Errorf("group %s after the refusals: %+v, %v", g, got, err)
		}
	}

	// The members have moved: the same forms go through.
	if _, err := tenant.FinishGroupMoves(ctx, s.store, s.svc.Now); err != nil {
		t.Fatal(err)
	}
	if p := b.Submit(b.Get(s.url("acme", "/admin/groups")), "/admin/groups", typed("ops")); p.Status != http.StatusSeeOther {
		t.Errorf("a new group with the old name after the move: %d", p.Status)
	}
	if p := b.Submit(b.Get(s.url("acme", "/admin/groups/team")), "/admin/groups/team/edit", typed("crew")); p.Status != http.StatusSeeOther {
		t.Errorf("the group renamed again after the move: %d", p.Status)
	}
}

// A custom attribute's name is counted in characters, as the rule says
// and Cognito counts: custom: and 25 "é" (57 bytes) is a name.
func TestCustomAttributeNameInCharacters(t *testing.T) {
	s := newStack(t)
	u := s.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@acme.example"})
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	edit := "/admin/users/" + u.Sub + "/edit"
	name := "custom:" + strings.Repeat("é", 25)
	sent := formValues(t, b.Get(s.url("acme", edit)).Body, edit)
	sent.Set("new_name", name)
	sent.Set("new_value", "x")
	if p := b.Post(s.url("acme", edit), sent); p.Status != http.StatusSeeOther {
		t.Fatalf("custom: and 25 é: %d\n%s", p.Status, p.Body)
	}
	if after, _ := s.svc.User(t.Context(), "acme", u.Sub); after.Attributes[name] != "x" {
		t.Errorf("attributes %v", after.Attributes)
	}
}

// An audit filter that can match nothing as asked is refused with the
// reason, as the admin API refuses it, not shown as an empty trail or
// dropped unseen.
func TestAuditFilterRefusals(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	for _, tc := range []struct {
		query, want string
	}{
		{"from=2026-11-30&to=2026-11-01", "The from date (2026-11-30) is after the to date (2026-11-01), so no event could match"},
		{"action=bogus", "“bogus” is not an action of the audit trail"},
	} {
		p := b.Get(s.url("acme", "/admin/audit?"+tc.query))
		if p.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d", tc.query, p.Status)
		}
		uitest.MustContain(t, p, tc.want)
		uitest.MustNotContain(t, p, "No events on this page match.", `<table class="list audit">`)
	}
	p := b.Get(s.url("acme", "/admin/audit?from=2026-11-01&to=2026-11-01&action=user."))
	if p.Status != http.StatusOK {
		t.Errorf("a range of one day: %d", p.Status)
	}
}

package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
	"github.com/cognate-idp/cognate/ui/uitest"
)

func TestUserListSearchAndFilter(t *testing.T) {
	s := newStack(t)
	for i := range 30 {
		s.user(t, "acme", tenant.NewUser{Username: fmt.Sprintf("user%02d", i), Email: fmt.Sprintf("person%02d@acme.example", i)})
	}
	s.user(t, "acme", tenant.NewUser{Username: "zoe", Email: "zoe@acme.example", Password: adminPassword})
	b := newBrowser(t)
	p := b.signIn(s, "acme", "boss", adminPassword)
	uitest.MustContain(t, p, "Not activated", "Active", "Next page", "Last sign-in", "View profile")

	tests := []struct {
		name           string
		query          url.Values
		want, unwanted []string
	}{
		{"username prefix", url.Values{"q": {"USER1"}}, []string{">user10<", ">user19<"}, []string{">user20<", ">boss<"}},
		{"email prefix", url.Values{"q": {"person2"}, "by": {"email"}}, []string{"person20@acme.example", "person29@acme.example"}, []string{"person19@"}},
		{"not activated", url.Values{"status": {"not_activated"}}, []string{"state-not_activated"}, []string{">zoe<", ">boss<", "state-active"}},
		{"active", url.Values{"status": {"active"}}, []string{">zoe<", ">boss<"}, []string{"state-not_activated"}},
		{"no match", url.Values{"q": {"nobody"}}, []string{"No users on this page match."}, []string{">boss<"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.Get(s.url("acme", "/admin/users?"+tt.query.Encode()))
			if p.Status != http.StatusOK {
				t.Fatalf("status %d", p.Status)
			}
			uitest.MustContain(t, p, tt.want...)
			uitest.MustNotContain(t, p, tt.unwanted...)
		})
	}

	// Paging follows the cursor to the rest.
	next := regexp.MustCompile(`<a href="([^"]*)" rel="next">`).FindStringSubmatch(p.Body)
	if next == nil {
		t.Fatal("no next page")
	}
	second := b.Get(s.url("acme", strings.ReplaceAll(next[1], "&amp;", "&")))
	if second.Status != http.StatusOK || !strings.Contains(second.Body, "First page") {
		t.Errorf("second page: %d", second.Status)
	}
	rows := func(body string) int { return strings.Count(body, `<tr data-select=`) }
	if rows(p.Body)+rows(second.Body) != 32 {
		t.Errorf("%d + %d rows, want all 32 users", rows(p.Body), rows(second.Body))
	}

	// "View profile" with the selected user leads to the profile.
	sub := s.admin["acme"].Sub
	view := b.Get(s.url("acme", "/admin/users/view?sub="+sub))
	if view.Status != http.StatusSeeOther || view.Location != s.url("acme", "/admin/users/"+sub) {
		t.Errorf("view profile: %d to %s", view.Status, view.Location)
	}
}

// The steps, over HTTP: a not-activated user, the edit form, the
// status toggle on, Save; the console says the mail was sent, and it was.
func TestActivateThroughTheEditForm(t *testing.T) {
	s := newStack(t)
	dora := s.user(t, "acme", tenant.NewUser{Username: "dora", Email: "dora@acme.example"})
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)

	profile := b.Get(s.url("acme", "/admin/users/"+dora.Sub))
	uitest.MustContain(t, profile, "Not activated", `id="edit"`, "Activate")
	edit := b.Get(s.url("acme", "/admin/users/"+dora.Sub+"/edit"))
	uitest.MustContain(t, edit, `role="switch"`, "Active: the user can sign in", "Turn the status on and save")
	if strings.Contains(edit.Body, `name="active" value="on" checked`) {
		t.Error("the toggle is on for a user who is not activated")
	}
	saved := b.Submit(edit, "/admin/users/"+dora.Sub+"/edit", url.Values{
		"active": {"on"}, "email": {"dora@acme.example"}, "attr.given_name": {"Dora"}, "new_name": {"custom:team"}, "new_value": {"north"},
	})
	if saved.Status != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", saved.Status, saved.Body)
	}
	after := b.Follow(saved)
	uitest.MustContain(t, after, "The status is on. The welcome mail with the username and a temporary password has been sent to dora@acme.example.", "Invited", "Dora", "custom:team", "north")

	m := s.smtp.WaitFor("dora@acme.example", "", 10*time.Second)
	if !strings.Contains(m.Text, "dora") || !strings.Contains(m.Text, s.url("acme", tenant.PathSignIn)) {
		t.Errorf("welcome mail:\n%s", m.Text)
	}
	u, _ := s.svc.User(t.Context(), "acme", dora.Sub)
	if u.Status != tenant.StatusForceChangePassword || !u.Enabled || u.Attributes["given_name"] != "Dora" {
		t.Errorf("dora after activation: %+v", u)
	}
	events, _ := s.svc.AuditLog(t.Context(), "acme", tenant.AuditQuery{Target: dora.Sub, Limit: 10})
	var acts []string
	for _, ev := range events.Events {
		acts = append(acts, string(ev.Action))
		if ev.Action != tenant.AuditUserCreate && (ev.Actor.Kind != tenant.ActorAdmin || ev.Actor.Name != "boss") {
			t.Errorf("%s by %+v, want the administrator", ev.Action, ev.Actor)
		}
	}
	if !slices.Contains(acts, "user.update") {
		t.Errorf("trail for dora: %v", acts)
	}

	// Turning it off disables her and says so.
	edit = b.Get(s.url("acme", "/admin/users/"+dora.Sub+"/edit"))
	uitest.MustContain(t, edit, `name="active" value="on" checked`)
	off := b.Follow(b.Submit(edit, "/admin/users/"+dora.Sub+"/edit", url.Values{"email": {"dora@acme.example"}}))
	uitest.MustContain(t, off, "The status is off", "Disabled")
	if u, _ := s.svc.User(t.Context(), "acme", dora.Sub); u.Enabled {
		t.Error("still enabled after the toggle went off")
	}
}

func TestEditProblemsAreShownInTheForm(t *testing.T) {
	s := newStack(t)
	ann := s.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@acme.example"})
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	edit := b.Get(s.url("acme", "/admin/users/"+ann.Sub+"/edit"))
	tests := []struct {
		name   string
		values url.Values
		want   string
	}{
		{"bad email", url.Values{"email": {"not-an-address"}}, "“not-an-address” is not an email address."},
		{"bad attribute", url.Values{"email": {"ann@acme.example"}, "new_name": {"custom:" + strings.Repeat("x", 30)}, "new_value": {"v"}},
			"attribute name &#34;custom:" + strings.Repeat("x", 30) + "&#34; must be custom:&lt;1 to 25 characters&gt;"},
		{"activation without email", url.Values{"email": {""}, "active": {"on"}}, "The user needs an email address to receive the welcome mail."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.Submit(edit, "/admin/users/"+ann.Sub+"/edit", tt.values)
			if p.Status < 400 {
				t.Fatalf("status %d", p.Status)
			}
			uitest.MustContain(t, p, tt.want, `role="alert"`)
		})
	}
	// The Dutch page says it in Dutch.
	b.Header.Set("Accept-Language", "nl")
	p := b.Submit(b.Get(s.url("acme", "/admin/users/"+ann.Sub+"/edit")), "/admin/users/"+ann.Sub+"/edit", url.Values{"email": {"fout"}})
	uitest.MustContain(t, p, "“fout” is geen e-mailadres.", "Opslaan")
}

func TestProfileActions(t *testing.T) {
	s := newStack(t)
	ivy := s.user(t, "acme", tenant.NewUser{Username: "ivy", Email: "ivy@acme.example"})
	cat := s.user(t, "acme", tenant.NewUser{Username: "cat", Email: "cat@acme.example", EmailVerified: true, Password: adminPassword})
	dot := s.user(t, "acme", tenant.NewUser{Username: "dot", Email: "dot@acme.example", Password: adminPassword})
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	act := func(sub, action string) page {
		t.Helper()
		profile := b.Get(s.url("acme", "/admin/users/"+sub))
		return b.Follow(b.Submit(profile, "/admin/users/"+sub+"/"+action, nil))
	}

	// Activate from the profile, then resend the invitation.
	uitest.MustContain(t, act(ivy.Sub, "activate"), "has been sent to ivy@acme.example")
	s.smtp.WaitFor("ivy@acme.example", "", 10*time.Second)
	s.later(time.Minute) // sooner, it is the same invitation again
	uitest.MustContain(t, act(ivy.Sub, "resend"), "A new welcome mail with a new temporary password has been sent to ivy@acme.example.")
	if n := waitCount(s, "ivy@acme.example", 2); n != 2 {
		t.Errorf("ivy got %d mails, want 2", n)
	}

	// Reset the password of an active user: a code goes out.
	catProfile := b.Get(s.url("acme", "/admin/users/"+cat.Sub))
	reset := func() page { return b.Follow(b.Submit(catProfile, "/admin/users/"+cat.Sub+"/reset-password", nil)) }
	uitest.MustContain(t, reset(), "The password has been reset.", "Password reset required")
	if n := waitCount(s, "cat@acme.example", 1); n != 1 {
		t.Errorf("cat got %d mails", n)
	}
	// The same form sent again within the minute (a double click, a
	// second tab): the code just sent stays good, no new one goes out, and
	// the console does not say that one did.
	again := reset()
	uitest.MustContain(t, again, "A mail with a code to choose a new password went to cat@acme.example less than a minute ago; its code stays valid, so no new one was sent.")
	uitest.MustNotContain(t, again, "The password has been reset.")
	b.Header.Set("Accept-Language", "nl")
	uitest.MustContain(t, reset(), "Er is minder dan een minuut geleden een mail met een code om een nieuw wachtwoord te kiezen naar cat@acme.example verstuurd")
	b.Header.Del("Accept-Language")
	if trail, _ := s.svc.AuditLog(t.Context(), "acme", tenant.AuditQuery{Target: cat.Sub, Action: string(tenant.AuditUserPasswordReset)}); len(trail.Events) != 1 {
		t.Errorf("%d password resets of cat in the audit trail, want the first alone", len(trail.Events))
	}
	// Not to an address nobody proved: the console says why and what to do.
	refused := act(dot.Sub, "reset-password")
	uitest.MustContain(t, refused, "a reset code goes only to an address the user has proved", "mark it verified")
	if refused.Status != http.StatusConflict || strings.Contains(refused.Body, "Password reset required") {
		t.Errorf("reset of an unverified address: %d", refused.Status)
	}
	b.Header.Set("Accept-Language", "nl")
	uitest.MustContain(t, act(dot.Sub, "reset-password"), "alleen naar een adres dat de gebruiker heeft bevestigd")
	b.Header.Del("Accept-Language")

	// Lock cat out with wrong passwords; the profile shows it, unlock ends it.
	for range 5 {
		s.machineStart(t, "cat", "wrong")
	}
	locked := b.Get(s.url("acme", "/admin/users/"+cat.Sub))
	uitest.MustContain(t, locked, "Locked after too many failed attempts", "Unlock sign-in")
	uitest.MustContain(t, act(cat.Sub, "unlock"), "Sign-in is unlocked.")
	var until time.Time
	s.store.View(t.Context(), func(tx tenant.Tx) (err error) {
		u, _ := s.svc.User(t.Context(), "acme", cat.Sub)
		until, err = auth.LockedUntil(tx, "acme", u, time.Now())
		return err
	})
	if !until.IsZero() {
		t.Errorf("still locked until %s", until)
	}

	// Disable, then delete with its confirmation step.
	uitest.MustContain(t, act(ivy.Sub, "disable"), "The status is off")
	confirm := b.Get(s.url("acme", "/admin/users/"+ivy.Sub+"/delete"))
	uitest.MustContain(t, confirm, "Delete ivy?", "This cannot be undone.", "Delete the user")
	if _, err := s.svc.User(t.Context(), "acme", ivy.Sub); err != nil {
		t.Fatal("the confirmation page deleted the user")
	}
	done := b.Follow(b.Submit(confirm, "/admin/users/"+ivy.Sub+"/delete", nil))
	uitest.MustContain(t, done, "The user has been deleted.")
	if _, err := s.svc.User(t.Context(), "acme", ivy.Sub); err == nil {
		t.Error("ivy still exists")
	}

	// Each action is in the audit trail, in the administrator's name.
	trail, _ := s.svc.AuditLog(t.Context(), "acme", tenant.AuditQuery{Actor: "boss", Action: "user.", Limit: 100})
	var acts []string
	for _, ev := range trail.Events {
		acts = append(acts, string(ev.Action))
	}
	for _, want := range []tenant.AuditAction{tenant.AuditUserActivate, tenant.AuditUserInviteResend,
		tenant.AuditUserPasswordReset, tenant.AuditUserUnlock, tenant.AuditUserDisable, tenant.AuditUserDelete} {
		if !slices.Contains(acts, string(want)) {
			t.Errorf("the trail lacks %s: %v", want, acts)
		}
	}

	// An administrator cannot disable or delete themselves.
	self := s.admin["acme"].Sub
	p := b.Submit(b.Get(s.url("acme", "/admin/users/"+self)), "/admin/users/"+self+"/disable", nil)
	if p.Status != http.StatusConflict {
		t.Errorf("disable yourself: %d", p.Status)
	}
	uitest.MustContain(t, p, "You cannot disable or delete yourself")
	// The refused deletion, too, is said on the profile.
	p = b.Submit(b.Get(s.url("acme", "/admin/users/"+self+"/delete")), "/admin/users/"+self+"/delete", nil)
	if p.Status != http.StatusConflict {
		t.Errorf("delete yourself: %d", p.Status)
	}
	uitest.MustContain(t, p, "You cannot disable or delete yourself", "<h1>boss</h1>")
	if _, err := s.svc.User(t.Context(), "acme", self); err != nil {
		t.Errorf("the administrator deleted themselves: %v", err)
	}
}

// waitCount waits until to has received n mails, or a few seconds.
func waitCount(s *stack, to string, n int) int {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && s.smtp.Count(to, "") < n {
		time.Sleep(20 * time.Millisecond)
	}
	return s.smtp.Count(to, "")
}

// machineStart tries a sign-in at acme through the state machine, as the
// login page would.
func (s *stack) machineStart(t *testing.T, login, pw string) {
	t.Helper()
	m := &auth.Machine{Store: s.store, Hasher: s.svc.Hasher, Now: time.Now, Audit: tenant.RecordAudit}
	_, _ = m.Start(t.Context(), "acme", auth.Credentials{Login: login, Password: pw})
}

func TestCreateUser(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	form := b.Get(s.url("acme", "/admin/users/new"))
	uitest.MustContain(t, form, "Create user", "Send the welcome mail now")
	created := b.Follow(b.Submit(form, "/admin/users/new", url.Values{"username": {"neo"}, "email": {"neo@acme.example"}, "groups": {"admins"}, "invite": {""}}))
	uitest.MustContain(t, created, "The user has been created, not activated.", "Not activated", "admins")
	dup := b.Submit(form, "/admin/users/new", url.Values{"username": {"NEO"}})
	if dup.Status != http.StatusUnprocessableEntity {
		t.Errorf("duplicate: %d", dup.Status)
	}
	uitest.MustContain(t, dup, "There is already a user called “NEO”.")
	invited := b.Follow(b.Submit(form, "/admin/users/new", url.Values{"username": {"trin"}, "email": {"trin@acme.example"}, "invite": {"on"}}))
	uitest.MustContain(t, invited, "The user has been created and the welcome mail has been sent to trin@acme.example.")
	s.smtp.WaitFor("trin@acme.example", "", 10*time.Second)
}

func TestResetMFA(t *testing.T) {
	s := newStack(t)
	max := s.user(t, "acme", tenant.NewUser{Username: "max", Email: "max@acme.example", Password: adminPassword})
	err := s.store.Update(t.Context(), func(tx tenant.Tx) error {
		u, err := tenant.GetUser(tx, "acme", max.Sub)
		if err != nil {
			return err
		}
		u.MFA.TOTP = &tenant.TOTPFactor{Secret: "sealed", CreatedAt: time.Now()}
		return tenant.UpdateUser(tx, "acme", u)
	})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	uitest.MustContain(t, b.Get(s.url("acme", "/admin/users?q=max")), "Enrolled: authenticator app")
	profile := b.Get(s.url("acme", "/admin/users/"+max.Sub))
	uitest.MustContain(t, profile, "Reset MFA")
	done := b.Follow(b.Submit(profile, "/admin/users/"+max.Sub+"/reset-mfa", nil))
	uitest.MustContain(t, done, "The user's second factors have been removed.", "Not enrolled")
	uitest.MustNotContain(t, done, "Reset MFA")
	if u, _ := s.svc.User(t.Context(), "acme", max.Sub); u.MFA.HasFactor() {
		t.Error("max still has a factor")
	}
	ev, _ := s.svc.AuditLog(t.Context(), "acme", tenant.AuditQuery{Action: string(tenant.AuditUserMFAReset)})
	if len(ev.Events) != 1 || ev.Events[0].Actor.Name != "boss" {
		t.Errorf("user.mfa.reset events %+v", ev.Events)
	}
}

// A form sent twice changes things once: Activate posted again (a second
// tab, a double click without the script) after the first activated the
// user answers as the first did, without a new temporary password, a
// second welcome mail or a second activation in the audit trail.
func TestActivateSentTwice(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	off := false
	tests := []struct {
		name    string
		user    tenant.NewUser
		disable bool
		at      bool // the two posts at the same moment
		result  string
		notice  string
		action  tenant.AuditAction
	}{
		{"not activated", tenant.NewUser{Username: "ivy", Email: "ivy@acme.example"}, false, false,
			"activated", "has been sent to ivy@acme.example", tenant.AuditUserActivate},
		{"not activated, at once", tenant.NewUser{Username: "joe", Email: "joe@acme.example"}, false, true,
			"activated", "has been sent to joe@acme.example", tenant.AuditUserActivate},
		{"invited, then disabled", tenant.NewUser{Username: "kit", Email: "kit@acme.example", Invite: true}, true, false,
			"activated", "has been sent to kit@acme.example", tenant.AuditUserActivate},
		{"disabled with a password of their own", tenant.NewUser{Username: "cat", Email: "cat@acme.example", Password: adminPassword}, true, false,
			"reenabled", "can sign in again with their own password", tenant.AuditUserEnable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := s.user(t, "acme", tt.user)
			if tt.disable {
				if _, err := s.svc.UpdateUser(t.Context(), "acme", u.Sub, tenant.UserChange{Enabled: &off}); err != nil {
					t.Fatal(err)
				}
			}
			events := func() int {
				trail, _ := s.svc.AuditLog(t.Context(), "acme", tenant.AuditQuery{Target: u.Sub, Action: string(tt.action)})
				return len(trail.Events)
			}
			before := events()
			profile := b.Get(s.url("acme", "/admin/users/"+u.Sub))
			var pages [2]page
			if tt.at {
				var wg sync.WaitGroup
				for i := range pages {
					wg.Go(func() { pages[i] = b.Submit(profile, "/admin/users/"+u.Sub+"/activate", nil) })
				}
				wg.Wait()
			} else {
				pages[0] = b.Submit(profile, "/admin/users/"+u.Sub+"/activate", nil)
				first, _ := s.svc.User(t.Context(), "acme", u.Sub)
				pages[1] = b.Submit(profile, "/admin/users/"+u.Sub+"/activate", nil)
				if after, _ := s.svc.User(t.Context(), "acme", u.Sub); after.PasswordHash != first.PasswordHash {
					t.Error("the second post gave the user another password")
				}
			}
			for i, p := range pages {
				if p.Status != http.StatusSeeOther || !strings.HasSuffix(p.Location, "?notice="+tt.result) {
					t.Errorf("post %d: %d to %q, want the profile with notice=%s:\n%s", i+1, p.Status, p.Location, tt.result, p.Body)
					continue
				}
				uitest.MustContain(t, b.Get(p.Location), tt.notice)
			}
			if n := events() - before; n != 1 {
				t.Errorf("%d %s events, want 1", n, tt.action)
			}
		})
	}
	// Resend within a minute of the invitation is that invitation again:
	// it says so, and sends nothing. (A new invitation after the minute,
	// the service's tests show.)
	ivy, _ := s.svc.FindUsers(t.Context(), "acme", tenant.UserQuery{Username: "ivy"})
	profile := b.Get(s.url("acme", "/admin/users/"+ivy.Users[0].Sub))
	uitest.MustContain(t, b.Follow(b.Submit(profile, "/admin/users/"+ivy.Users[0].Sub+"/resend", nil)),
		"The welcome mail went to ivy@acme.example less than a minute ago; its temporary password stays valid")
	if after, _ := s.svc.User(t.Context(), "acme", ivy.Users[0].Sub); after.PasswordHash != ivy.Users[0].PasswordHash {
		t.Error("resend at once gave the user another temporary password")
	}
}

// Resetting the password mails a code: a user without an address is not
// offered it, and a request to (no page sends one) says which mail the
// address is missing for.
func TestResetPasswordNeedsAnAddress(t *testing.T) {
	s := newStack(t)
	nemo := s.user(t, "acme", tenant.NewUser{Username: "nemo", Password: adminPassword})
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	for _, tt := range []struct{ lang, want string }{
		{"en", "The user needs an email address to receive the mail with the reset code."},
		{"nl", "De gebruiker heeft een e-mailadres nodig om de mail met de resetcode te ontvangen."},
	} {
		b.Header.Set("Accept-Language", tt.lang)
		profile := b.Get(s.url("acme", "/admin/users/"+nemo.Sub))
		uitest.MustNotContain(t, profile, `id="reset-password"`)
		p := b.PostForm(profile, "/admin/users/"+nemo.Sub+"/reset-password", nil)
		if p.Status != http.StatusConflict {
			t.Fatalf("%s: status %d", tt.lang, p.Status)
		}
		uitest.MustContain(t, p, tt.want)
		uitest.MustNotContain(t, p, "welcome mail", "welkomstmail")
	}
	if u, _ := s.svc.User(t.Context(), "acme", nemo.Sub); u.Status != tenant.StatusConfirmed {
		t.Errorf("nemo is %s after the refused reset", u.Status)
	}
}

// A notice whose sentence names the user's address is only shown where
// there is one: never a bare %s, on a list or a profile without an address.
func TestNoticesNeverShowAFormatVerb(t *testing.T) {
	s := newStack(t)
	nemo := s.user(t, "acme", tenant.NewUser{Username: "nemo"})
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	for _, path := range []string{"/admin/users", "/admin/groups", "/admin/groups/admins", "/admin/clients",
		"/admin/settings", "/admin/users/" + nemo.Sub} {
		for _, notice := range []string{"activated", "invited", "reset", "resent", "resentRecently", "resetRecently"} {
			for _, lang := range []string{"en", "nl"} {
				b.Header.Set("Accept-Language", lang)
				p := b.Get(s.url("acme", path+"?notice="+notice))
				if p.Status != http.StatusOK {
					t.Errorf("%s?notice=%s (%s): status %d", path, notice, lang, p.Status)
				}
				if strings.Contains(p.Body, "%s") || strings.Contains(p.Body, "%!") || strings.Contains(p.Body, `id="notice"`) {
					t.Errorf("%s?notice=%s (%s) shows a notice without its address:\n%s", path, notice, lang, p.Body)
				}
			}
		}
	}
	// Where there is an address, it is in the sentence.
	b.Header.Set("Accept-Language", "en")
	uitest.MustContain(t, b.Get(s.url("acme", "/admin/users/"+s.admin["acme"].Sub+"?notice=reset")),
		"A mail with a code to choose a new password has been sent to boss@acme.example.")
}

package tenant_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
	"github.com/cognate-idp/cognate/tenant/password"
)

// mailEnv is a Service wired for mail as cmd/cognate wires it, with the
// queue read back directly and the revocations it asks for recorded.
type mailEnv struct {
	svc     *tenant.Service
	clk     *clock
	m       *auth.Machine
	revoked []string // subs
	woken   int
	seen    map[string]bool // mail IDs lastMail has returned
}

func newMailEnv(t *testing.T) *mailEnv {
	t.Helper()
	svc, clk := newService(t)
	templates, err := mail.NewTemplates(nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &mailEnv{svc: svc, clk: clk, m: &auth.Machine{Store: svc.Store, Hasher: svc.Hasher, Now: clk.Now}, seen: map[string]bool{}}
	svc.Templates = templates
	svc.MailFrom = "no-reply@example.com"
	svc.TenantURL = func(slug string) string { return "https://" + slug + ".example.com" }
	svc.MailQueued = func() { e.woken++ }
	svc.ReleaseLockout = auth.Unlock
	svc.RevokeUser = func(_ tenant.Tx, _, sub string) error {
		e.revoked = append(e.revoked, sub)
		return nil
	}
	for _, slug := range []string{"acme", "globex"} {
		if _, err := svc.CreateTenant(context.Background(), tenant.NewTenant{Slug: slug, Name: strings.ToUpper(slug[:1]) + slug[1:] + " BV"}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *mailEnv) user(t *testing.T, slug string, in tenant.NewUser) tenant.User {
	t.Helper()
	u, err := e.svc.CreateUser(context.Background(), slug, in)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (e *mailEnv) get(t *testing.T, slug, sub string) tenant.User {
	t.Helper()
	u, err := e.svc.User(context.Background(), slug, sub)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// queued returns every mail waiting in the outbox, oldest first.
func (e *mailEnv) queued(t *testing.T) []mail.Queued {
	t.Helper()
	q, err := tenant.MailQueue{Store: e.svc.Store}.Due(context.Background(), e.clk.Now().Add(time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// lastMail returns the one mail queued since the last call. (The queue is
// in order of time, and the test clock often stands still.)
func (e *mailEnv) lastMail(t *testing.T) mail.Queued {
	t.Helper()
	var fresh []mail.Queued
	for _, m := range e.queued(t) {
		if !e.seen[m.ID] {
			fresh = append(fresh, m)
			e.seen[m.ID] = true
		}
	}
	if len(fresh) != 1 {
		t.Fatalf("%d new mails queued, want 1", len(fresh))
	}
	return fresh[0]
}

var (
	tempPasswordLine = regexp.MustCompile(`Temporary password:\s+(\S+)`)
	tempPasswordText = regexp.MustCompile(`Uw tijdelijke wachtwoord:\s+(\S+)`)
	codeLine         = regexp.MustCompile(`(?m)^\s+(\d{6})\s*$`)
)

func tempPasswordIn(t *testing.T, m mail.Queued) string {
	t.Helper()
	for _, re := range []*regexp.Regexp{tempPasswordLine, tempPasswordText} {
		if match := re.FindStringSubmatch(m.Text); match != nil {
			return match[1]
		}
	}
	t.Fatalf("no temporary password in:\n%s", m.Text)
	return ""
}

func codeIn(t *testing.T, m mail.Queued) string {
	t.Helper()
	match := codeLine.FindStringSubmatch(m.Text)
	if match == nil {
		t.Fatalf("no code in:\n%s", m.Text)
	}
	return match[1]
}

func TestActivateUser(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	ann := e.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@example.com"})

	u, repeated, err := e.svc.ActivateUser(ctx, "acme", ann.Sub)
	if err != nil || repeated {
		t.Fatalf("activate: repeated %t, %v", repeated, err)
	}
	if u.Status != tenant.StatusForceChangePassword || !u.Enabled || !u.TempPasswordExpiresAt.Equal(e.clk.Now().Add(7*24*time.Hour)) {
		t.Errorf("activated user: status %s enabled %t expires %s", u.Status, u.Enabled, u.TempPasswordExpiresAt)
	}
	m := e.lastMail(t)
	temp := tempPasswordIn(t, m)
	if !m.Sensitive || !slices.Equal(m.To, []string{"ann@example.com"}) || m.From != `"Acme BV" <no-reply@example.com>` {
		t.Errorf("welcome mail: sensitive %t to %v from %q", m.Sensitive, m.To, m.From)
	}
	if !strings.Contains(m.Text, "https://acme.example.com/sign-in?login_hint=ann") || !strings.Contains(m.Subject, "Acme BV") {
		t.Errorf("welcome mail lacks the sign-in link or the name:\n%s", m.Text)
	}
	if strings.Contains(u.PasswordHash, temp) || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Errorf("stored %q for the temporary password", u.PasswordHash)
	}
	if err := password.DefaultPolicy().Check(temp); err != nil {
		t.Errorf("temporary password %q fails the policy: %v", temp, err)
	}
	if e.woken != 1 || !slices.Equal(e.revoked, []string{ann.Sub}) {
		t.Errorf("woken %d, revoked %v", e.woken, e.revoked)
	}
	if res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: temp}); err != nil || res.Challenge != auth.NewPasswordRequired {
		t.Errorf("sign in with the temporary password: %+v %v", res, err)
	}

	// The same activation again at once (a form sent twice), or a resend
	// at once, changes nothing: the mail just sent stays good.
	for _, again := range []func(context.Context, string, string) (tenant.User, bool, error){e.svc.ActivateUser, e.svc.ResendInvitation} {
		if _, repeated, err := again(ctx, "acme", ann.Sub); err != nil || !repeated {
			t.Fatalf("the same invitation again at once: repeated %t, %v; want it said to be repeated", repeated, err)
		}
		if n := len(e.queued(t)); n != 1 {
			t.Errorf("%d mails queued after the same invitation again at once, want 1", n)
		}
		if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: temp}); err != nil {
			t.Errorf("the first temporary password after the same invitation again: %v", err)
		}
	}
	// A minute on, activating again and resending both replace the
	// password.
	for _, again := range []func(context.Context, string, string) (tenant.User, bool, error){e.svc.ActivateUser, e.svc.ResendInvitation} {
		e.clk.Advance(time.Minute)
		if _, repeated, err := again(ctx, "acme", ann.Sub); err != nil || repeated {
			t.Fatalf("an invitation a minute on: repeated %t, %v; want a new one", repeated, err)
		}
		fresh := tempPasswordIn(t, e.lastMail(t))
		if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: temp}); !errors.Is(err, auth.ErrNotAuthorized) {
			t.Errorf("old temporary password after a new invitation: %v", err)
		}
		if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: fresh}); err != nil {
			t.Errorf("new temporary password: %v", err)
		}
		temp = fresh
	}
	if n := len(e.queued(t)); n != 3 {
		t.Errorf("%d mails queued, want 3", n)
	}
	// Within the minute but to a user changed since (a new address, the
	// first was mistyped): a new invitation, to the new address.
	e.clk.Advance(time.Second)
	fixed := "ann@example.org"
	if _, err := e.svc.UpdateUser(ctx, "acme", ann.Sub, tenant.UserChange{Email: &fixed}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.ResendInvitation(ctx, "acme", ann.Sub); err != nil {
		t.Fatal(err)
	}
	if m := e.lastMail(t); len(e.queued(t)) != 4 || !slices.Equal(m.To, []string{fixed}) {
		t.Errorf("%d mails, the last to %v; want a fourth, to %s", len(e.queued(t)), m.To, fixed)
	}

	// The tenant's language and branding.
	nl, color := "nl", tenant.Branding{PrimaryColor: "#0a7d33"}
	if _, err := e.svc.UpdateTenant(ctx, "globex", tenant.TenantChange{Settings: tenant.SettingsChange{Locale: &nl, Branding: &color}}); err != nil {
		t.Fatal(err)
	}
	gus := e.user(t, "globex", tenant.NewUser{Username: "gus", Email: "gus@example.com"})
	if _, _, err := e.svc.ActivateUser(ctx, "globex", gus.Sub); err != nil {
		t.Fatal(err)
	}
	m = e.lastMail(t)
	if m.Subject != "Uw account voor Globex BV" || !strings.Contains(m.HTML, "#0a7d33") {
		t.Errorf("Dutch, branded welcome mail: subject %q", m.Subject)
	}
	tempPasswordIn(t, m)
}

// A user created with an invitation is created activated: the user, the
// temporary password and the welcome mail commit together, or none of them.
func TestCreateUserWithInvitation(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	ann := e.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@example.com", Invite: true})
	if ann.Status != tenant.StatusForceChangePassword || !ann.Enabled || !ann.TempPasswordExpiresAt.Equal(e.clk.Now().Add(7*24*time.Hour)) {
		t.Errorf("invited user: status %s enabled %t expires %s", ann.Status, ann.Enabled, ann.TempPasswordExpiresAt)
	}
	m := e.lastMail(t)
	temp := tempPasswordIn(t, m)
	if !m.Sensitive || !slices.Equal(m.To, []string{"ann@example.com"}) || !strings.Contains(m.Text, "https://acme.example.com/sign-in?login_hint=ann") {
		t.Errorf("welcome mail: sensitive %t to %v:\n%s", m.Sensitive, m.To, m.Text)
	}
	if e.woken != 1 {
		t.Errorf("the outbox was woken %d times, want 1", e.woken)
	}
	if res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: temp}); err != nil || res.Challenge != auth.NewPasswordRequired {
		t.Errorf("sign in with the temporary password: %+v %v", res, err)
	}
	trail, err := e.svc.AuditLog(ctx, "acme", tenant.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []tenant.AuditAction
	for _, ev := range trail.Events {
		if ev.Target.ID == ann.Sub {
			actions = append(actions, ev.Action)
		}
	}
	if !slices.Contains(actions, tenant.AuditUserCreate) || !slices.Contains(actions, tenant.AuditUserActivate) {
		t.Errorf("audit trail of the invited user: %v, want user.create and user.activate", actions)
	}

	refusals := []struct {
		name string
		in   tenant.NewUser
		want error
	}{
		{"no email", tenant.NewUser{Username: "bob", Invite: true}, tenant.ErrNoEmail},
		{"a password too", tenant.NewUser{Username: "bob", Email: "bob@example.com", Password: "Correct-Horse-9!", Invite: true}, tenant.ErrInvalid},
		{"unknown group", tenant.NewUser{Username: "bob", Email: "bob@example.com", Groups: []string{"nope"}, Invite: true}, tenant.ErrInvalid},
	}
	for _, tt := range refusals {
		if _, err := e.svc.CreateUser(ctx, "acme", tt.in); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	// The mail cannot be made: neither it nor the user is written.
	e.svc.Templates = nil
	if _, err := e.svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "bob", Email: "bob@example.com", Invite: true}); err == nil {
		t.Fatal("an invitation without templates succeeded")
	}
	if found, err := e.svc.FindUsers(ctx, "acme", tenant.UserQuery{Username: "bob"}); err != nil || len(found.Users) != 0 {
		t.Errorf("refused invitations left %d users named bob (%v)", len(found.Users), err)
	}
	if n := len(e.queued(t)); n != 1 {
		t.Errorf("%d mails queued, want only ann's", n)
	}
}

// A change with Activate commits with its activation or not at all: the
// address saved is the one the welcome mail goes to.
func TestUpdateUserWithActivation(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	ann := e.user(t, "acme", tenant.NewUser{Username: "ann"})
	given := "Ann"
	change := func(email string) tenant.UserChange {
		return tenant.UserChange{Email: &email, Attributes: map[string]*string{"given_name": &given}, Activate: true}
	}

	// The mail cannot be made: neither the change nor the activation is written.
	templates := e.svc.Templates
	e.svc.Templates = nil
	if _, err := e.svc.UpdateUser(ctx, "acme", ann.Sub, change("ann@example.com")); err == nil {
		t.Fatal("an activation without templates succeeded")
	}
	if u := e.get(t, "acme", ann.Sub); u.Email != "" || u.Attributes["given_name"] != "" || u.Status != tenant.StatusUnconfirmed {
		t.Errorf("a failed activation saved the change: email %q, attributes %v, status %s", u.Email, u.Attributes, u.Status)
	}
	e.svc.Templates = templates

	refusals := []struct {
		name string
		in   tenant.UserChange
		want error
	}{
		{"no address", change(""), tenant.ErrNoEmail},
		{"activated and deactivated", func() tenant.UserChange {
			c, off := change("ann@example.com"), false
			c.Enabled = &off
			return c
		}(), tenant.ErrInvalid},
	}
	for _, tt := range refusals {
		if _, err := e.svc.UpdateUser(ctx, "acme", ann.Sub, tt.in); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}

	u, err := e.svc.UpdateUser(ctx, "acme", ann.Sub, change("ann@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != tenant.StatusForceChangePassword || u.Attributes["given_name"] != "Ann" {
		t.Errorf("activated: status %s, attributes %v", u.Status, u.Attributes)
	}
	m := e.lastMail(t)
	if !slices.Equal(m.To, []string{"ann@example.com"}) {
		t.Errorf("welcome mail to %v, want the address saved with the activation", m.To)
	}
	if res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: tempPasswordIn(t, m)}); err != nil || res.Challenge != auth.NewPasswordRequired {
		t.Errorf("sign in with the temporary password: %+v %v", res, err)
	}
}

func TestActivationRefusals(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	noMail := e.user(t, "acme", tenant.NewUser{Username: "nomail"})
	confirmed := e.user(t, "acme", tenant.NewUser{Username: "cora", Email: "cora@example.com", Password: "Correct-Horse-9!"})
	pending := e.user(t, "acme", tenant.NewUser{Username: "pia", Email: "pia@example.com", Password: "Temp-Pass-1!", Temporary: true})
	fresh := e.user(t, "acme", tenant.NewUser{Username: "fred", Email: "fred@example.com"})

	disable := func(sub string) {
		off := false
		if _, err := e.svc.UpdateUser(ctx, "acme", sub, tenant.UserChange{Enabled: &off}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		do   func() (tenant.User, bool, error)
		want error
	}{
		{"activate without email", func() (tenant.User, bool, error) { return e.svc.ActivateUser(ctx, "acme", noMail.Sub) }, tenant.ErrNoEmail},
		{"activate an active CONFIRMED user", func() (tenant.User, bool, error) { return e.svc.ActivateUser(ctx, "acme", confirmed.Sub) }, tenant.ErrUserState},
		{"resend to a CONFIRMED user", func() (tenant.User, bool, error) { return e.svc.ResendInvitation(ctx, "acme", confirmed.Sub) }, tenant.ErrUserState},
		{"resend to a user not activated", func() (tenant.User, bool, error) { return e.svc.ResendInvitation(ctx, "acme", fresh.Sub) }, tenant.ErrUserState},
		{"resend to a deactivated user", func() (tenant.User, bool, error) {
			disable(pending.Sub)
			return e.svc.ResendInvitation(ctx, "acme", pending.Sub)
		}, tenant.ErrUserState},
		{"unknown user", func() (tenant.User, bool, error) { return e.svc.ActivateUser(ctx, "acme", "nope") }, tenant.ErrNotFound},
		{"admin reset of a user not activated", func() (tenant.User, bool, error) { return e.svc.AdminResetPassword(ctx, "acme", fresh.Sub) }, tenant.ErrUserState},
		{"admin reset of a user yet to sign in", func() (tenant.User, bool, error) { return e.svc.AdminResetPassword(ctx, "acme", pending.Sub) }, tenant.ErrUserState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := tt.do()
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if errors.Is(tt.want, tenant.ErrInvalid) && !errors.Is(err, tenant.ErrInvalid) {
				t.Errorf("%v does not match ErrInvalid, so the admin API would answer 500", err)
			}
		})
	}
	if n := len(e.queued(t)); n != 0 {
		t.Errorf("refusals queued %d mails", n)
	}

	// A deactivated CONFIRMED user is enabled again, password untouched.
	disable(confirmed.Sub)
	u, _, err := e.svc.ActivateUser(ctx, "acme", confirmed.Sub)
	if err != nil || !u.Enabled || u.Status != tenant.StatusConfirmed || u.PasswordHash != confirmed.PasswordHash {
		t.Errorf("re-activate: %+v %v", u, err)
	}
	if n := len(e.queued(t)); n != 0 {
		t.Errorf("re-enabling queued %d mails", n)
	}

	// The mail and the change commit together: no mail, no change.
	e.svc.Templates = nil
	if _, _, err := e.svc.ActivateUser(ctx, "acme", fresh.Sub); err == nil {
		t.Fatal("activation without templates succeeded")
	}
	if u := e.get(t, "acme", fresh.Sub); u.Status != tenant.StatusUnconfirmed || u.PasswordHash != "" {
		t.Errorf("a failed activation left the user %s with a password", u.Status)
	}
}

func TestPasswordReset(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	const old, next = "Correct-Horse-9!", "Battery-Staple-7?"
	ann := e.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@example.com", EmailVerified: true, Password: old})
	e.user(t, "acme", tenant.NewUser{Username: "nomail", Password: old})
	off := e.user(t, "acme", tenant.NewUser{Username: "off", Email: "off@example.com", EmailVerified: true, Password: old})
	disabled := false
	if _, err := e.svc.UpdateUser(ctx, "acme", off.Sub, tenant.UserChange{Enabled: &disabled}); err != nil {
		t.Fatal(err)
	}

	// Every name gets the same answer; only ann gets mail.
	for _, login := range []string{"nobody", "nomail", "off", "ANN@example.com"} {
		if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: login, ClientIP: "192.0.2.1"}); err != nil {
			t.Fatalf("%s: %v", login, err)
		}
	}
	m := e.lastMail(t)
	if !slices.Equal(m.To, []string{"ann@example.com"}) || !m.Sensitive {
		t.Fatalf("queued %v, want one sensitive mail to ann", m)
	}
	code := codeIn(t, m)

	// A second request within the minute sends nothing; the code stands.
	if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: "ann", ClientIP: "192.0.2.1"}); err != nil || len(e.queued(t)) != 1 {
		t.Fatalf("second request: %v, %d mails", err, len(e.queued(t)))
	}

	wrong := "000000"
	if wrong == code {
		wrong = "000001"
	}
	var policyErr *password.PolicyError
	if err := e.svc.ConfirmPasswordReset(ctx, "acme", "ann", wrong, next); !errors.Is(err, tenant.ErrCodeMismatch) {
		t.Errorf("wrong code: %v", err)
	}
	if err := e.svc.ConfirmPasswordReset(ctx, "acme", "ann", code, "weak"); !errors.As(err, &policyErr) ||
		!policyErr.Has(password.RuleTooShort) || !policyErr.Has(password.RuleUppercase) || !policyErr.Has(password.RuleNumber) {
		t.Errorf("weak password: %v", err)
	}
	if err := e.svc.ConfirmPasswordReset(ctx, "acme", "nobody", code, next); !errors.Is(err, tenant.ErrCodeMismatch) {
		t.Errorf("unknown name: %v", err)
	}
	e.revoked = nil
	fromAnn := tenant.WithActor(ctx, tenant.Actor{Kind: tenant.ActorUser, IP: "192.0.2.7"})
	if err := e.svc.ConfirmPasswordReset(fromAnn, "acme", "ann", code, next); err != nil {
		t.Fatalf("right code: %v", err)
	}
	u := e.get(t, "acme", ann.Sub)
	if u.Status != tenant.StatusConfirmed || !slices.Equal(e.revoked, []string{ann.Sub}) {
		t.Errorf("after the reset: %s, revoked %v", u.Status, e.revoked)
	}
	if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: next}); err != nil {
		t.Errorf("sign in with the new password: %v", err)
	}
	// The same form again (a double submit) is fine; anything else with
	// the spent code is a wrong code (TestSpentResetCodeIsNoOracle).
	if err := e.svc.ConfirmPasswordReset(ctx, "acme", "ann", code, next); err != nil {
		t.Errorf("double submit: %v", err)
	}
	if err := e.svc.ConfirmPasswordReset(ctx, "acme", "ann", code, "Other-Pass-3!"); !errors.Is(err, tenant.ErrCodeMismatch) {
		t.Errorf("spent code: %v", err)
	}
	// The trail holds the one password set, in ann's name: not the wrong
	// code, the weak password, the unknown name nor the double submit.
	page, err := e.svc.AuditLog(ctx, "acme", tenant.AuditQuery{Action: string(tenant.AuditUserPasswordRecover)})
	if err != nil {
		t.Fatal(err)
	}
	wantActor := tenant.Actor{Kind: tenant.ActorUser, Sub: ann.Sub, Name: "ann", IP: "192.0.2.7"}
	if len(page.Events) != 1 || page.Events[0].Actor != wantActor || page.Events[0].Target.ID != ann.Sub {
		t.Errorf("user.password.recover events %+v", page.Events)
	}

	// A code lives an hour.
	e.clk.Advance(2 * time.Minute)
	if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: "ann", ClientIP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	code = codeIn(t, e.lastMail(t))
	e.clk.Advance(tenant.ResetCodeTTL)
	if err := e.svc.ConfirmPasswordReset(ctx, "acme", "ann", code, "Other-Pass-3!"); !errors.Is(err, tenant.ErrCodeExpired) {
		t.Errorf("expired code: %v", err)
	}
}

// Five wrong codes kill the code, and read the same for a name that has no
// account or no code at all.
func TestResetCodeAttempts(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	e.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@example.com", EmailVerified: true, Password: "Correct-Horse-9!"})
	for _, login := range []string{"ann", "nobody"} {
		if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: login}); err != nil {
			t.Fatal(err)
		}
	}
	code := codeIn(t, e.lastMail(t))
	wrong := func(i int) string { // never the right one
		c := "99999" + string(rune('0'+i))
		if c == code {
			c = "88888" + string(rune('0'+i))
		}
		return c
	}
	for _, login := range []string{"ann", "nobody"} {
		for i := range tenant.MaxResetCodeAttempts {
			err := e.svc.ConfirmPasswordReset(ctx, "acme", login, wrong(i), "Battery-Staple-7?")
			want := tenant.ErrCodeMismatch
			if i == tenant.MaxResetCodeAttempts-1 {
				want = tenant.ErrCodeAttempts
			}
			if !errors.Is(err, want) {
				t.Fatalf("%s, attempt %d: %v, want %v", login, i+1, err, want)
			}
		}
	}
	if err := e.svc.ConfirmPasswordReset(ctx, "acme", "ann", code, "Battery-Staple-7?"); !errors.Is(err, tenant.ErrCodeAttempts) {
		t.Errorf("right code after five wrong ones: %v", err)
	}
	// Via the other name of the same account, the code is still dead.
	if err := e.svc.ConfirmPasswordReset(ctx, "acme", "ann@example.com", code, "Battery-Staple-7?"); !errors.Is(err, tenant.ErrCodeAttempts) {
		t.Errorf("right code by email after five wrong ones: %v", err)
	}
	// Asking again at once gets no new code, for either name: both stay
	// out of attempts alike.
	for _, login := range []string{"ann", "nobody"} {
		if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: login}); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.ConfirmPasswordReset(ctx, "acme", login, wrong(0), "Battery-Staple-7?"); !errors.Is(err, tenant.ErrCodeAttempts) {
			t.Errorf("%s, asked again at once: %v", login, err)
		}
	}
	// A minute later a new code brings new attempts, and for a name
	// without an account the same: a wrong code is wrong again.
	e.clk.Advance(time.Minute)
	if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: "nobody"}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ConfirmPasswordReset(ctx, "acme", "nobody", wrong(0), "Battery-Staple-7?"); !errors.Is(err, tenant.ErrCodeMismatch) {
		t.Errorf("nobody, a minute later: %v", err)
	}
	if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: "ann"}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ConfirmPasswordReset(ctx, "acme", "ann", codeIn(t, e.lastMail(t)), "Battery-Staple-7?"); err != nil {
		t.Errorf("new code: %v", err)
	}
}

// Wrong codes under an account's email address read exactly as under an
// address with no account, however many the account's username spent:
// else four guesses under a username and one under an address would tell
// whether the address is that account's.
func TestResetCodeAttemptsDoNotLinkNames(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	e.user(t, "acme", tenant.NewUser{Username: "carl", Email: "carl@example.com", EmailVerified: true, Password: "Correct-Horse-9!"})
	if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: "carl"}); err != nil {
		t.Fatal(err)
	}
	code := codeIn(t, e.lastMail(t))
	wrong := func(i int) string {
		c := fmt.Sprintf("77777%d", i)
		if c == code {
			c = fmt.Sprintf("66666%d", i)
		}
		return c
	}
	for guesses := range tenant.MaxResetCodeAttempts { // 0 to 4 guesses under the username first
		t.Run(fmt.Sprintf("%d under the username", guesses), func(t *testing.T) {
			// The two addresses have had the same guesses before.
			var answers []bool
			for _, login := range []string{"carl@example.com", "nobody@example.com"} {
				err := e.svc.ConfirmPasswordReset(ctx, "acme", login, wrong(guesses), "Battery-Staple-7?")
				if !errors.Is(err, tenant.ErrCodeMismatch) && !errors.Is(err, tenant.ErrCodeAttempts) {
					t.Fatalf("%s: %v", login, err)
				}
				answers = append(answers, errors.Is(err, tenant.ErrCodeAttempts))
			}
			if answers[0] != answers[1] {
				t.Errorf("the account's address and another read differently (too many attempts: %v)", answers)
			}
			if guesses < tenant.MaxResetCodeAttempts-1 {
				if err := e.svc.ConfirmPasswordReset(ctx, "acme", "carl", wrong(guesses), "Battery-Staple-7?"); !errors.Is(err, tenant.ErrCodeMismatch) {
					t.Fatalf("guess %d under the username: %v", guesses+1, err)
				}
			}
		})
	}
	// The code itself is spent, whoever holds it learns so.
	if err := e.svc.ConfirmPasswordReset(ctx, "acme", "carl", code, "Battery-Staple-7?"); !errors.Is(err, tenant.ErrCodeAttempts) {
		t.Errorf("the right code after its guesses ran out: %v", err)
	}
}

func TestResetRateLimits(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	e.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@example.com", EmailVerified: true, Password: "Correct-Horse-9!"})

	// One user: at most five codes an hour, however the requests are spread.
	for range 12 {
		if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: "ann"}); err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(61 * time.Second)
	}
	if n := len(e.queued(t)); n != 5 {
		t.Errorf("%d codes in 12 minutes, want 5", n)
	}
	// One address: a bound on requests for any names, said out loud since
	// it depends on no account.
	for i := range 30 {
		if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: "nobody", ClientIP: "198.51.100.7"}); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: "ann", ClientIP: "198.51.100.7"}); !errors.Is(err, tenant.ErrRateLimited) {
		t.Errorf("31st request from one address: %v", err)
	}
	if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: "nobody", ClientIP: "198.51.100.8"}); err != nil {
		t.Errorf("another address: %v", err)
	}
	// An IPv6 client counts by its /64, whichever of its addresses it uses.
	for i := range 30 {
		if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: "nobody", ClientIP: fmt.Sprintf("2001:db8:1::%x", i+1)}); err != nil {
			t.Fatalf("request %d from one /64: %v", i+1, err)
		}
	}
	if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: "nobody", ClientIP: "2001:db8:1::ffff"}); !errors.Is(err, tenant.ErrRateLimited) {
		t.Errorf("31st request from one /64: %v", err)
	}
	if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: "nobody", ClientIP: "2001:db8:1:1::1"}); err != nil {
		t.Errorf("another /64: %v", err)
	}
}

// A reset code's mail speaks the language the person chose for the pages
// they asked on (ResetRequest.Locale), before the user's own and the
// organization's; a language the mails do not speak falls through to the
// next. An administrator's reset, which no page of the user's asks for,
// speaks the user's or the organization's.
func TestResetMailLanguage(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	nl := "nl"
	if _, err := e.svc.UpdateTenant(ctx, "globex", tenant.TenantChange{Settings: tenant.SettingsChange{Locale: &nl}}); err != nil {
		t.Fatal(err)
	}
	subjects := map[string]string{ // by kind and language, %s the organization
		"reset en": "Your verification code for %s", "reset nl": "Uw verificatiecode voor %s",
		"admin en": "Your password for %s has been reset", "admin nl": "Uw wachtwoord voor %s is opnieuw ingesteld",
	}
	orgNames := map[string]string{"acme": "Acme BV", "globex": "Globex BV"}
	tests := []struct {
		name, slug, asked, userLocale string
		// the languages of the reset code's mail and of the administrator's
		// reset's
		reset, admin string
	}{
		{"Dutch chosen at an English organization", "acme", "nl", "", "nl", "en"},
		{"a Dutch regional tag", "acme", "nl-BE", "", "nl", "en"},
		{"English chosen at a Dutch organization", "globex", "en", "", "en", "nl"},
		{"none chosen: the organization's", "acme", "", "", "en", "en"},
		{"none chosen, Dutch organization", "globex", "", "", "nl", "nl"},
		{"a language the mails do not speak: the organization's", "globex", "de", "", "nl", "nl"},
		{"none chosen: the user's own", "acme", "", "nl", "nl", "nl"},
		{"the chosen one before the user's own", "acme", "en", "nl", "en", "nl"},
		{"the user's own the mails do not speak: the organization's", "globex", "", "fr", "nl", "nl"},
		{"the user's own as a regional tag", "globex", "", "en-GB", "en", "en"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			login := fmt.Sprintf("user%d", i)
			in := tenant.NewUser{Username: login, Email: login + "@example.com", EmailVerified: true, Password: "Correct-Horse-9!"}
			if tt.userLocale != "" {
				in.Attributes = map[string]string{"locale": tt.userLocale}
			}
			u := e.user(t, tt.slug, in)
			if err := e.svc.StartPasswordReset(ctx, tt.slug, tenant.ResetRequest{Login: login, Locale: tt.asked}); err != nil {
				t.Fatal(err)
			}
			if m, want := e.lastMail(t), fmt.Sprintf(subjects["reset "+tt.reset], orgNames[tt.slug]); m.Subject != want {
				t.Errorf("reset code: subject %q, want %q", m.Subject, want)
			}
			e.clk.Advance(time.Minute) // else the code on its way answers
			if _, _, err := e.svc.AdminResetPassword(ctx, tt.slug, u.Sub); err != nil {
				t.Fatal(err)
			}
			if m, want := e.lastMail(t), fmt.Sprintf(subjects["admin "+tt.admin], orgNames[tt.slug]); m.Subject != want {
				t.Errorf("the administrator's reset: subject %q, want %q", m.Subject, want)
			}
		})
	}
}

func TestAdminResetPassword(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	const old = "Correct-Horse-9!"
	ann := e.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@example.com", EmailVerified: true, Password: old})

	u, _, err := e.svc.AdminResetPassword(ctx, "acme", ann.Sub)
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != tenant.StatusResetRequired || !slices.Equal(e.revoked, []string{ann.Sub}) {
		t.Errorf("after an admin reset: %s, revoked %v", u.Status, e.revoked)
	}
	m := e.lastMail(t)
	if !m.Sensitive || !strings.Contains(m.Text, "https://acme.example.com/reset-password?login=ann") {
		t.Errorf("admin reset mail:\n%s", m.Text)
	}
	code := codeIn(t, m)

	// The same reset again at once (a form sent twice) sends no second
	// code, which would make the first mail useless; a minute later it
	// sends a fresh one.
	mails, events := len(e.queued(t)), len(auditTrail(t, e.svc, "acme"))
	if _, repeated, err := e.svc.AdminResetPassword(ctx, "acme", ann.Sub); err != nil || !repeated {
		t.Fatalf("a reset sent again at once: repeated %t, %v; want it said to be repeated", repeated, err)
	}
	if len(e.queued(t)) != mails || len(auditTrail(t, e.svc, "acme")) != events {
		t.Errorf("a reset sent again at once queued %d mails and %d events", len(e.queued(t))-mails, len(auditTrail(t, e.svc, "acme"))-events)
	}
	// The first mail's code still works: a code that is not the one
	// waiting would be ErrCodeMismatch, while this one gets as far as the
	// password (refused, which costs no attempt and keeps the code).
	var policyErr *password.PolicyError
	if err := e.svc.ConfirmPasswordReset(ctx, "acme", "ann", code, old); !errors.As(err, &policyErr) || !policyErr.Has(password.RuleReused) {
		t.Errorf("the first code after the reset was sent again at once: %v", err)
	}
	e.clk.Advance(time.Minute)
	if _, repeated, err := e.svc.AdminResetPassword(ctx, "acme", ann.Sub); err != nil || repeated {
		t.Fatalf("a reset a minute later: repeated %t, %v; want a new one", repeated, err)
	}
	if len(e.queued(t)) != mails+1 {
		t.Errorf("a reset a minute later queued %d mails, want 1", len(e.queued(t))-mails)
	}
	code = codeIn(t, e.lastMail(t))

	// The old password leads to the reset, and only the old password.
	if res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: old}); err != nil || res.Challenge != auth.PasswordResetRequired || res.Session != "" {
		t.Errorf("old password: %+v %v", res, err)
	}
	if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: "Wrong-Pass-1!"}); !errors.Is(err, auth.ErrNotAuthorized) {
		t.Errorf("wrong password: %v", err)
	}
	// The password that was reset may not come back, even without a
	// history policy.
	if err := e.svc.ConfirmPasswordReset(ctx, "acme", "ann", code, old); !errors.As(err, &policyErr) || !policyErr.Has(password.RuleReused) {
		t.Errorf("old password as the new one: %v", err)
	}
	if err := e.svc.ConfirmPasswordReset(ctx, "acme", "ann", code, "Battery-Staple-7?"); err != nil {
		t.Fatal(err)
	}
	if u := e.get(t, "acme", ann.Sub); u.Status != tenant.StatusConfirmed {
		t.Errorf("status %s after the reset", u.Status)
	}
}

// HistorySize keeps the last passwords out, at a reset and at the forced
// change of a temporary password alike.
func TestPasswordHistory(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	history := 3
	if _, err := e.svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{
		PasswordPolicy: &tenant.PasswordPolicyChange{HistorySize: &history}}}); err != nil {
		t.Fatal(err)
	}
	const p1, p2 = "First-Pass-1!", "Second-Pass-2!"
	ann := e.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@example.com"})
	if _, _, err := e.svc.ActivateUser(ctx, "acme", ann.Sub); err != nil {
		t.Fatal(err)
	}
	res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: tempPasswordIn(t, e.lastMail(t))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Respond(ctx, "acme", res.Session, auth.Answer{Challenge: auth.NewPasswordRequired, NewPassword: p1}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.AdminResetPassword(ctx, "acme", ann.Sub); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ConfirmPasswordReset(ctx, "acme", "ann", codeIn(t, e.lastMail(t)), p2); err != nil {
		t.Fatal(err)
	}
	// p2 is current, p1 before it: both refused at the next reset.
	e.clk.Advance(time.Minute)
	if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: "ann"}); err != nil {
		t.Fatal(err)
	}
	code := codeIn(t, e.lastMail(t))
	for _, pw := range []string{p1, p2} {
		var policyErr *password.PolicyError
		if err := e.svc.ConfirmPasswordReset(ctx, "acme", "ann", code, pw); !errors.As(err, &policyErr) || !policyErr.Has(password.RuleReused) {
			t.Errorf("reset to %s: %v", pw, err)
		}
	}
	// An administrator's temporary password, then the forced change: p1
	// and p2 (which the temporary password replaced) are in the history,
	// and refused there too.
	if err := e.svc.SetPassword(ctx, "acme", ann.Sub, "Temp-Pass-3!", false); err != nil {
		t.Fatal(err)
	}
	res, err = e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: "Temp-Pass-3!"})
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{p1, p2} {
		var policyErr *password.PolicyError
		if _, err := e.m.Respond(ctx, "acme", res.Session, auth.Answer{Challenge: auth.NewPasswordRequired, NewPassword: pw}); !errors.As(err, &policyErr) || !policyErr.Has(password.RuleReused) {
			t.Errorf("forced change back to %s: %v", pw, err)
		}
	}
	if _, err := e.m.Respond(ctx, "acme", res.Session, auth.Answer{Challenge: auth.NewPasswordRequired, NewPassword: "Third-Pass-3!"}); err != nil {
		t.Errorf("forced change to a new password: %v", err)
	}
}

func TestUnlock(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	ann := e.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@example.com", Password: "Correct-Horse-9!"})
	for _, login := range []string{"ann", "ann@example.com"} {
		for range 5 {
			_, _ = e.m.Start(ctx, "acme", auth.Credentials{Login: login, Password: "Wrong-Pass-1!"})
		}
		if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: login, Password: "Correct-Horse-9!"}); !errors.Is(err, auth.ErrLocked) {
			t.Fatalf("%s after five failures: %v, want locked", login, err)
		}
	}
	if err := e.svc.Unlock(ctx, "acme", ann.Sub); err != nil {
		t.Fatal(err)
	}
	for _, login := range []string{"ann", "ann@example.com"} {
		if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: login, Password: "Correct-Horse-9!"}); err != nil {
			t.Errorf("%s after unlock: %v", login, err)
		}
	}
}

func TestOrganizationsForEmail(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	if _, err := e.svc.CreateTenant(ctx, tenant.NewTenant{Slug: "initech", Name: "Initech"}); err != nil {
		t.Fatal(err)
	}
	e.user(t, "acme", tenant.NewUser{Username: "ann", Email: "Ann@Example.com", Password: "Correct-Horse-9!"})
	e.user(t, "globex", tenant.NewUser{Username: "ann", Email: "ann@example.com"}) // not activated: cannot sign in
	e.user(t, "initech", tenant.NewUser{Username: "ann2", Email: "ann@example.com", Password: "Temp-Pass-1!", Temporary: true})

	if err := e.svc.OrganizationsForEmail(ctx, tenant.OrgLookup{Email: "ann@example.com", Locale: "nl", ClientIP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	m := e.lastMail(t)
	if !slices.Equal(m.To, []string{"ann@example.com"}) || m.Sensitive || !strings.Contains(m.Subject, "Inloggen") {
		t.Errorf("mail to %v, sensitive %t, subject %q", m.To, m.Sensitive, m.Subject)
	}
	for _, want := range []string{"Acme BV", "https://acme.example.com/", "Initech", "https://initech.example.com/"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("mail lacks %q:\n%s", want, m.Text)
		}
	}
	if strings.Contains(m.Text, "globex") {
		t.Errorf("mail lists an organization where the address cannot sign in:\n%s", m.Text)
	}

	if err := e.svc.OrganizationsForEmail(ctx, tenant.OrgLookup{Email: "zed@example.com", ClientIP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	if m := e.lastMail(t); !slices.Equal(m.To, []string{"zed@example.com"}) || strings.Contains(m.Text, "https://") {
		t.Errorf("mail for an unknown address:\n%s", m.Text)
	}
	for _, email := range []string{"not an address", "", "   "} {
		if err := e.svc.OrganizationsForEmail(ctx, tenant.OrgLookup{Email: email}); !errors.Is(err, tenant.ErrInvalid) {
			t.Errorf("%q: %v", email, err)
		}
	}

	// Asked again at once: no second mail. From one client address: a bound.
	before := len(e.queued(t))
	if err := e.svc.OrganizationsForEmail(ctx, tenant.OrgLookup{Email: "ANN@example.com", ClientIP: "192.0.2.1"}); err != nil || len(e.queued(t)) != before {
		t.Errorf("again at once: %v, %d mails, want %d", err, len(e.queued(t)), before)
	}
	var err error
	for i := 0; i < 20 && err == nil; i++ {
		err = e.svc.OrganizationsForEmail(ctx, tenant.OrgLookup{Email: "x@example.com", ClientIP: "192.0.2.9"})
	}
	if !errors.Is(err, tenant.ErrRateLimited) {
		t.Errorf("many lookups from one address: %v", err)
	}
	// Nor from the addresses of one IPv6 /64, each used once.
	err = nil
	for i := 0; i < 20 && err == nil; i++ {
		err = e.svc.OrganizationsForEmail(ctx, tenant.OrgLookup{Email: fmt.Sprintf("x%d@example.com", i), ClientIP: fmt.Sprintf("2001:db8:1::%x", i+1)})
	}
	if !errors.Is(err, tenant.ErrRateLimited) {
		t.Errorf("many lookups from one /64: %v", err)
	}
}

func TestSweepOnboarding(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	e.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@example.com", EmailVerified: true, Password: "Correct-Horse-9!"})
	if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: "ann", ClientIP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.OrganizationsForEmail(ctx, tenant.OrgLookup{Email: "ann@example.com", ClientIP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	if n, err := tenant.SweepOnboarding(ctx, e.svc.Store, e.clk.Now()); err != nil || n != 0 {
		t.Fatalf("sweep of live records: %d, %v", n, err)
	}
	// After a day every window and the reset record have run out.
	n, err := tenant.SweepOnboarding(ctx, e.svc.Store, e.clk.Now().Add(25*time.Hour))
	if err != nil || n != 6 {
		t.Errorf("sweep after a day: %d, %v; want the IP, name and user windows, the reset record, the apex IP and email windows", n, err)
	}
}

// TestTenantOwnTemplates: a tenant an operator gave its own templates gets
// its mail from them; the others keep the built-in ones.
func TestTenantOwnTemplates(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	all, perTenant, err := mail.LoadOverrides(fstest.MapFS{
		"acme/welcome.en.txt.tmpl": {Data: []byte(`{{define "subject"}}Acme's own welcome{{end}}Password: {{.Data.TemporaryPassword}}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.svc.Templates, e.svc.TenantTemplates = all, perTenant
	for slug, want := range map[string]string{"acme": "Acme's own welcome", "globex": "Your account for Globex BV"} {
		u := e.user(t, slug, tenant.NewUser{Username: "ann", Email: "ann@example.com"})
		if _, _, err := e.svc.ActivateUser(ctx, slug, u.Sub); err != nil {
			t.Fatal(err)
		}
		if m := e.lastMail(t); m.Subject != want {
			t.Errorf("%s: subject %q, want %q", slug, m.Subject, want)
		}
	}
}

// A reset code belongs to the user it was mailed to. Deleting that user
// deletes the code, so that a user created later under the same sub (an
// import keeps subs) cannot have their password set with it by whoever
// read the old user's mail.
func TestDeleteUserEndsResetCode(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	const pw, next = "Correct-Horse-9!", "Battery-Staple-7?"
	old := e.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@old.example", EmailVerified: true, Password: pw})
	if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: "ann", ClientIP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	code := codeIn(t, e.lastMail(t))
	if err := e.svc.DeleteUser(ctx, "acme", old.Sub); err != nil {
		t.Fatal(err)
	}
	e.user(t, "acme", tenant.NewUser{Sub: old.Sub, Username: "ann", Email: "ann@new.example", EmailVerified: true, Password: pw})
	if err := e.svc.ConfirmPasswordReset(ctx, "acme", "ann", code, next); !errors.Is(err, tenant.ErrCodeMismatch) {
		t.Errorf("the deleted user's code on the new user: %v, want ErrCodeMismatch", err)
	}
}

// A reset code goes only to a verified address: a user whose address was
// never proved reads, to whoever asks for a code or sends one, exactly like
// a name with no account, and an administrator's reset is refused.
func TestResetNeedsVerifiedAddress(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	const pw, next = "Correct-Horse-9!", "Battery-Staple-7?"
	una := e.user(t, "acme", tenant.NewUser{Username: "una", Email: "una@example.com", Password: pw})
	// RESET_REQUIRED with a code already mailed, then the address found
	// unproved (as an import or an administrator may leave it).
	rae := e.user(t, "acme", tenant.NewUser{Username: "rae", Email: "rae@example.com", EmailVerified: true, Password: pw})
	if _, _, err := e.svc.AdminResetPassword(ctx, "acme", rae.Sub); err != nil {
		t.Fatal(err)
	}
	raeCode := codeIn(t, e.lastMail(t))
	unverified := false
	if _, err := e.svc.UpdateUser(ctx, "acme", rae.Sub, tenant.UserChange{EmailVerified: &unverified}); err != nil {
		t.Fatal(err)
	}

	for _, login := range []string{"una", "una@example.com", "rae", "rae@example.com", "nobody"} {
		if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: login, ClientIP: "192.0.2.1"}); err != nil {
			t.Fatalf("%s: %v", login, err)
		}
	}
	if q := e.queued(t); len(q) != 1 {
		t.Fatalf("%d mails queued, want only the administrator's reset", len(q))
	}
	for _, login := range []string{"rae", "nobody"} {
		if err := e.svc.ConfirmPasswordReset(ctx, "acme", login, raeCode, next); !errors.Is(err, tenant.ErrCodeMismatch) {
			t.Errorf("%s with the code mailed before: %v, want the answer to a wrong code", login, err)
		}
	}
	if u := e.get(t, "acme", rae.Sub); u.Status != tenant.StatusResetRequired || u.PasswordChangedAt != rae.PasswordChangedAt {
		t.Errorf("rae's password was set: %s", u.Status)
	}

	if _, _, err := e.svc.AdminResetPassword(ctx, "acme", una.Sub); !errors.Is(err, tenant.ErrEmailUnverified) {
		t.Errorf("admin reset of an unverified address: %v, want ErrEmailUnverified", err)
	}
	if u := e.get(t, "acme", una.Sub); u.Status != tenant.StatusConfirmed || len(e.queued(t)) != 1 {
		t.Errorf("refused admin reset left una %s, %d mails", u.Status, len(e.queued(t)))
	}
}

// Signing in with the temporary password the welcome mail carried proves
// the address it went to: the forced change marks it verified, so the user
// can reset by code later. A temporary password handed over, or mailed to
// an address the user no longer has, proves nothing.
func TestForcedChangeProvesMailedAddress(t *testing.T) {
	const next = "Battery-Staple-7?"
	for _, tc := range []struct {
		name string
		// prepare makes the user FORCE_CHANGE_PASSWORD and returns the
		// temporary password.
		prepare  func(t *testing.T, e *mailEnv, sub string) string
		verified bool
	}{
		{"activated", func(t *testing.T, e *mailEnv, sub string) string {
			if _, _, err := e.svc.ActivateUser(context.Background(), "acme", sub); err != nil {
				t.Fatal(err)
			}
			return tempPasswordIn(t, e.lastMail(t))
		}, true},
		{"activated, address changed since", func(t *testing.T, e *mailEnv, sub string) string {
			if _, _, err := e.svc.ActivateUser(context.Background(), "acme", sub); err != nil {
				t.Fatal(err)
			}
			temp := tempPasswordIn(t, e.lastMail(t))
			other := "someone@example.org"
			if _, err := e.svc.UpdateUser(context.Background(), "acme", sub, tenant.UserChange{Email: &other}); err != nil {
				t.Fatal(err)
			}
			return temp
		}, false},
		{"temporary password set by an administrator after the invitation", func(t *testing.T, e *mailEnv, sub string) string {
			if _, _, err := e.svc.ActivateUser(context.Background(), "acme", sub); err != nil {
				t.Fatal(err)
			}
			e.lastMail(t)
			if err := e.svc.SetPassword(context.Background(), "acme", sub, "Handed-Over-1!", false); err != nil {
				t.Fatal(err)
			}
			return "Handed-Over-1!"
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newMailEnv(t)
			e.m.Audit = tenant.RecordAudit
			ctx := context.Background()
			ivy := e.user(t, "acme", tenant.NewUser{Username: "ivy", Email: "ivy@example.com"})
			temp := tc.prepare(t, e, ivy.Sub)
			res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ivy", Password: temp})
			if err != nil || res.Challenge != auth.NewPasswordRequired {
				t.Fatalf("sign-in with the temporary password: %+v, %v", res, err)
			}
			if _, err := e.m.Respond(ctx, "acme", res.Session, auth.Answer{Challenge: auth.NewPasswordRequired, NewPassword: next}); err != nil {
				t.Fatal(err)
			}
			u := e.get(t, "acme", ivy.Sub)
			if u.Status != tenant.StatusConfirmed || u.EmailVerified != tc.verified {
				t.Fatalf("after the forced change: %s, email verified %t, want %t", u.Status, u.EmailVerified, tc.verified)
			}
			page, err := e.svc.AuditLog(ctx, "acme", tenant.AuditQuery{Action: string(tenant.AuditUserPasswordChange)})
			if err != nil || len(page.Events) != 1 || (page.Events[0].Details["fields"] == "email_verified") != tc.verified {
				t.Errorf("user.password.change events %+v, %v", page.Events, err)
			}
			// Forgot-password works exactly when the address is proved.
			e.clk.Advance(time.Minute)
			if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: "ivy", ClientIP: "192.0.2.1"}); err != nil {
				t.Fatal(err)
			}
			var codes int
			for _, m := range e.queued(t) {
				if !e.seen[m.ID] && strings.Contains(m.Text, "verification code") {
					codes++
				}
			}
			if (codes == 1) != tc.verified {
				t.Errorf("%d reset codes mailed, verified %t", codes, tc.verified)
			}
		})
	}
}

// A spent code tells nobody which password it set: within the grace only
// the exact form that set it reads as success, and any other password is a
// wrong code, counted against the code under every name, until the code is
// dead and even the exact repeat is refused.
func TestSpentResetCodeIsNoOracle(t *testing.T) {
	const set = "Battery-Staple-7?"
	spent := func(t *testing.T) (*mailEnv, tenant.User, string) {
		e := newMailEnv(t)
		ann := e.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@example.com", EmailVerified: true, Password: "Correct-Horse-9!"})
		if err := e.svc.StartPasswordReset(context.Background(), "acme", tenant.ResetRequest{Login: "ann"}); err != nil {
			t.Fatal(err)
		}
		code := codeIn(t, e.lastMail(t))
		if err := e.svc.ConfirmPasswordReset(context.Background(), "acme", "ann", code, set); err != nil {
			t.Fatal(err)
		}
		return e, ann, code
	}
	ctx := context.Background()

	t.Run("guesses kill the code", func(t *testing.T) {
		e, _, code := spent(t)
		// Guesses under both of ann's names, so that neither name's own
		// count is used up: the code's is.
		logins := []string{"ann", "ann@example.com", "ann", "ann@example.com", "ann"}
		for i, login := range logins {
			err := e.svc.ConfirmPasswordReset(ctx, "acme", login, code, fmt.Sprintf("Guess-Number-%d!", i))
			if !errors.Is(err, tenant.ErrCodeMismatch) {
				t.Fatalf("guess %d under %s: %v, want the answer to a wrong code", i+1, login, err)
			}
		}
		if err := e.svc.ConfirmPasswordReset(ctx, "acme", "ann@example.com", code, set); !errors.Is(err, tenant.ErrCodeAttempts) {
			t.Errorf("the exact repeat after %d guesses: %v, want ErrCodeAttempts", len(logins), err)
		}
	})
	t.Run("a repeat after a change", func(t *testing.T) {
		e, ann, code := spent(t)
		if err := e.svc.ConfirmPasswordReset(ctx, "acme", "ann", code, set); err != nil {
			t.Fatalf("double submit: %v", err)
		}
		// The password changes again within the grace: the form that
		// set the old one no longer reads as success, nor tells the new.
		const changed = "Changed-Again-5!"
		if err := e.svc.SetPassword(ctx, "acme", ann.Sub, changed, true); err != nil {
			t.Fatal(err)
		}
		for _, pw := range []string{set, changed} {
			if err := e.svc.ConfirmPasswordReset(ctx, "acme", "ann", code, pw); !errors.Is(err, tenant.ErrCodeMismatch) {
				t.Errorf("spent code with a password it did not set last: %v, want ErrCodeMismatch", err)
			}
		}
	})
}

// A user whose address was stored before ValidateEmail asked that mail can
// be sent to it is not invited, nor invited again: the welcome mail would
// be given up on at once, while the administrator reads that it is on its
// way. The refusal names the address, as at creation.
func TestInviteRefusesAnAddressThatCannotBeMailed(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	ann := e.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@example.com"})
	if _, _, err := e.svc.ActivateUser(ctx, "acme", ann.Sub); err != nil {
		t.Fatal(err)
	}
	const stored = "a..b@example.com"
	err := e.svc.Store.Update(ctx, func(tx tenant.Tx) error {
		u, err := tenant.GetUser(tx, "acme", ann.Sub)
		if err != nil {
			return err
		}
		u.Email = stored
		return tenant.UpdateUser(tx, "acme", u)
	})
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Minute) // past the minute in which an invitation again changes nothing
	for _, invite := range []struct {
		name string
		call func(context.Context, string, string) (tenant.User, bool, error)
	}{{"activate", e.svc.ActivateUser}, {"resend", e.svc.ResendInvitation}} {
		_, _, err := invite.call(ctx, "acme", ann.Sub)
		var inv *tenant.InvalidError
		if !errors.As(err, &inv) || inv.Code != tenant.CodeEmailInvalid || !slices.Equal(inv.Args, []string{stored}) {
			t.Errorf("%s: %v, want an *InvalidError %s naming %q", invite.name, err, tenant.CodeEmailInvalid, stored)
		}
	}
	if n := len(e.queued(t)); n != 1 {
		t.Errorf("%d mails queued, want only the first invitation's", n)
	}
}

package legacy_test

import (
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
	"github.com/cognate-idp/cognate/tenant/cognitoimport"
)

// Lazy migration from a Cognito pool, against the Cognito protocol stub for
// what cognito-local cannot show (see stub_test.go); cognitolocal_test.go
// runs the same paths against cognito-local.

func stubPool(s *stubCognito) tenant.LegacyPool {
	return tenant.LegacyPool{Kind: tenant.LegacyCognito, Endpoint: s.srv.URL, UserPoolID: s.poolID, ClientID: s.client, ClientSecret: s.secret}
}

func withAdminKeys(p tenant.LegacyPool) tenant.LegacyPool {
	p.Admin = tenant.AWSKeys{AccessKeyID: "AKIDSTUB", SecretAccessKey: "stub-secret-key"}
	return p
}

const zoeSub = "7d8e2c10-4b6a-4f0e-9c55-2b1f7a9e0d41"

// An app client that allows only SRP: Cognate falls back to USER_SRP_AUTH,
// proves the password to a real SRP verifier, with SECRET_HASH over the
// alias first and over Cognito's own username after, as Cognito wants.
func TestSRPFallback(t *testing.T) {
	s := newStubCognito(t)
	s.passwordAuth, s.secret = false, "stub-client-secret"
	// A pool whose usernames are UUIDs and people sign in by email.
	s.add(stubUser{username: zoeSub, sub: zoeSub, email: "zoe@example.com", password: "Zoë's-Passw0rd!",
		attrs: map[string]string{"given_name": "Zoë"}, groups: []string{"planners"}})
	e := newEnv(t, stubPool(s))

	if _, err := e.signIn("zoe@example.com", "not her password"); !errors.Is(err, auth.ErrNotAuthorized) {
		t.Fatalf("wrong password: %v", err)
	}
	if n := e.countUsers(t); n != 0 {
		t.Fatalf("a wrong password created %d users", n)
	}
	res := e.mustSignIn(t, "zoe@example.com", "Zoë's-Passw0rd!")
	u, ok := e.find(t, "zoe@example.com")
	if !ok || res.Sub != zoeSub || u.Sub != zoeSub || u.Username != zoeSub || u.Status != tenant.StatusConfirmed ||
		u.Attributes["given_name"] != "Zoë" || !slices.Equal(u.Groups, []string{"planners"}) || !u.EmailVerified {
		t.Fatalf("migrated user: %+v", u)
	}
	want := []string{"InitiateAuth", "InitiateAuth", "RespondToAuthChallenge"} // the wrong password's
	want = append(want, want...)
	if got := s.calls(); !slices.Equal(got, want) {
		t.Errorf("calls %v, want %v", got, want)
	}

	// Set to SRP, Cognate does not try the password flow first.
	pool := stubPool(s)
	pool.AuthFlow = tenant.FlowUserSRP
	s.add(stubUser{username: "yara", sub: "yara-sub", email: "yara@example.com", password: "Yara-Passw0rd!"})
	e.setPool(t, pool)
	before := len(s.calls())
	e.mustSignIn(t, "yara", "Yara-Passw0rd!")
	if got := s.calls()[before:]; !slices.Equal(got, []string{"InitiateAuth", "RespondToAuthChallenge"}) {
		t.Errorf("SRP only: calls %v", got)
	}
}

// Real Cognito refuses a disabled user with NotAuthorizedException "User is
// disabled." (cognito-local lets them sign in, so the stub stands in):
// that is a refusal like a wrong password, and nothing is created.
func TestDisabledUser(t *testing.T) {
	s := newStubCognito(t)
	s.add(stubUser{username: "dan", sub: "dan-sub", email: "dan@example.com", password: "Dan-Passw0rd!", disabled: true})
	e := newEnv(t, stubPool(s))

	max := 5 // the tenant's default lockout
	for i := range max {
		if _, err := e.signIn("dan", "Dan-Passw0rd!"); !errors.Is(err, auth.ErrNotAuthorized) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	if n := e.countUsers(t); n != 0 {
		t.Fatalf("a disabled user was migrated")
	}
	// The refusals counted: the name is locked, and a locked name never
	// reaches the legacy pool.
	calls := e.calls.Load()
	if _, err := e.signIn("dan", "Dan-Passw0rd!"); !errors.Is(err, auth.ErrLocked) {
		t.Fatalf("after %d refusals: %v", max, err)
	}
	if e.calls.Load() != calls {
		t.Error("the legacy pool was asked about a locked name")
	}
}

// Cognito checks a temporary password before it asks for a new one: a
// wrong one is NotAuthorizedException (cognito-local answers
// NEW_PASSWORD_REQUIRED to anything; docs/migration.md). A right one is
// proof, and becomes Cognate's own forced change.
func TestNewPasswordRequired(t *testing.T) {
	s := newStubCognito(t)
	s.add(stubUser{username: "tom", sub: "tom-sub", email: "tom@example.com", password: "Temp-Passw0rd!", status: "FORCE_CHANGE_PASSWORD"})
	e := newEnv(t, stubPool(s))

	if _, err := e.signIn("tom", "Wrong-Passw0rd!"); !errors.Is(err, auth.ErrNotAuthorized) {
		t.Fatalf("wrong temporary password: %v", err)
	}
	if n := e.countUsers(t); n != 0 {
		t.Fatal("a wrong temporary password migrated the user")
	}
	res, err := e.signIn("tom", "Temp-Passw0rd!")
	if err != nil || res.Challenge != auth.NewPasswordRequired || res.Session == "" {
		t.Fatalf("right temporary password: %+v, %v", res, err)
	}
	u, _ := e.find(t, "tom")
	if u.Status != tenant.StatusForceChangePassword || u.TempPasswordExpiresAt.IsZero() || u.Email != "tom@example.com" {
		t.Fatalf("migrated as %+v", u)
	}
	// Cognito's challenge carries no sub: without administrator keys the
	// user gets a new one (they never signed in, so no relying party has
	// data under the old one).
	if u.Sub == "tom-sub" || u.Sub == "" {
		t.Errorf("sub %q", u.Sub)
	}
	done, err := e.m.Respond(ctx, "acme", res.Session, auth.Answer{Challenge: auth.NewPasswordRequired, NewPassword: "Own-Passw0rd!"})
	if err != nil || !done.Done() {
		t.Fatalf("new password: %+v, %v", done, err)
	}
	calls := e.calls.Load()
	e.mustSignIn(t, "tom", "Own-Passw0rd!")
	if e.calls.Load() != calls {
		t.Error("the legacy pool was asked again")
	}

	// With administrator keys the sub comes over too.
	s.add(stubUser{username: "tess", sub: "tess-sub", email: "tess@example.com", password: "Temp-Passw0rd!", status: "FORCE_CHANGE_PASSWORD"})
	e.setPool(t, withAdminKeys(stubPool(s)))
	if res, err := e.signIn("tess", "Temp-Passw0rd!"); err != nil || res.Challenge != auth.NewPasswordRequired {
		t.Fatalf("tess: %+v, %v", res, err)
	}
	if u, _ := e.find(t, "tess"); u.Sub != "tess-sub" || u.Status != tenant.StatusForceChangePassword {
		t.Errorf("tess: %+v", u)
	}
}

// Cognito asks for a second factor only after a right password, so the
// challenge proves it; the factor does not come over, the user is marked
// to enrol again.
func TestMFAChallengeProvesPassword(t *testing.T) {
	s := newStubCognito(t)
	s.add(stubUser{username: "mia", sub: "mia-sub", email: "mia@example.com", password: "Mia-Passw0rd!", mfa: true,
		attrs: map[string]string{"custom:planner_id": "p-9", "family_name": "Jansen"}, groups: []string{"admins", "planners", "staff"}})
	s.add(stubUser{username: "max", sub: "max-sub", email: "max@example.com", password: "Max-Passw0rd!", mfa: true})
	s.add(stubUser{username: "moe", sub: "moe-sub", email: "moe@example.com", password: "Moe-Passw0rd!", mfa: true})
	e := newEnv(t, stubPool(s))

	// Without administrator keys the challenge names the user and nothing
	// more: not the sub. A user imported here is completed...
	importJSON(t, e, `{"Users":[{"Username":"max","Attributes":[{"Name":"sub","Value":"max-sub"},{"Name":"email","Value":"max@example.com"}],"Enabled":true,"UserStatus":"CONFIRMED"}]}`)
	e.mustSignIn(t, "max", "Max-Passw0rd!")
	if u, _ := e.find(t, "max"); u.Sub != "max-sub" || u.Status != tenant.StatusConfirmed || u.Attributes[cognitoimport.AttrMFAReenroll] != "true" {
		t.Errorf("max: %+v", u)
	}
	// ...but one unknown here is not created under a new sub, which would
	// cut them off from their data at every relying party.
	if _, err := e.signIn("moe", "Moe-Passw0rd!"); !errors.Is(err, auth.ErrTemporarilyUnavailable) || !errors.Is(err, tenant.ErrLegacyIncomplete) {
		t.Errorf("moe: %v", err)
	}
	if _, found := e.find(t, "moe"); found {
		t.Error("moe was created without the sub")
	}

	// With them, the whole profile and every page of groups.
	e.setPool(t, withAdminKeys(stubPool(s)))
	e.mustSignIn(t, "mia", "Mia-Passw0rd!")
	u, _ := e.find(t, "mia")
	if u.Sub != "mia-sub" || u.Email != "mia@example.com" || !u.EmailVerified || u.Attributes["custom:planner_id"] != "p-9" ||
		u.Attributes["family_name"] != "Jansen" || u.Attributes[cognitoimport.AttrMFAReenroll] != "true" ||
		!slices.Equal(u.Groups, []string{"admins", "planners", "staff"}) {
		t.Errorf("mia: %+v", u)
	}
	if got := s.calls(); !slices.Contains(got, "AdminGetUser") || strings.Count(strings.Join(got, ","), "AdminListGroupsForUser") != 3 {
		t.Errorf("calls %v", got)
	}
}

// A pool that cannot give an answer is never a wrong password: the sign-in
// is temporarily unavailable, nothing is created and nothing counted.
func TestLegacyUnavailable(t *testing.T) {
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr
	}()
	for _, tc := range []struct {
		name  string
		setup func(s *stubCognito, p *tenant.LegacyPool)
	}{
		{"nothing listening", func(s *stubCognito, p *tenant.LegacyPool) { p.Endpoint = closed }},
		{"internal error", func(s *stubCognito, p *tenant.LegacyPool) { s.fail = "InternalErrorException" }},
		{"throttled", func(s *stubCognito, p *tenant.LegacyPool) { s.fail = "TooManyRequestsException" }},
		{"too slow", func(s *stubCognito, p *tenant.LegacyPool) { s.delay = 4 * time.Second }},
		{"wrong client secret", func(s *stubCognito, p *tenant.LegacyPool) { s.secret, p.ClientSecret = "right", "wrong" }},
		{"client secret missing", func(s *stubCognito, p *tenant.LegacyPool) { s.secret = "right" }},
		{"unknown app client", func(s *stubCognito, p *tenant.LegacyPool) { p.ClientID = "nosuchclient" }},
		{"password flow not enabled", func(s *stubCognito, p *tenant.LegacyPool) {
			s.passwordAuth, p.AuthFlow = false, tenant.FlowUserPassword
		}},
		{"no flow enabled", func(s *stubCognito, p *tenant.LegacyPool) { s.passwordAuth, s.srpAuth = false, false }},
		// Real Cognito says InvalidPasswordException only of a new
		// password; to the SRP proof it is no wrong password (only
		// cognito-local's InitiateAuth says it of one).
		{"SRP proof answered InvalidPasswordException", func(s *stubCognito, p *tenant.LegacyPool) {
			s.passwordAuth, s.failProof = false, "InvalidPasswordException"
		}},
		{"a challenge that proves nothing", func(s *stubCognito, p *tenant.LegacyPool) { s.challenge = "CUSTOM_CHALLENGE" }},
		{"admin keys refused", func(s *stubCognito, p *tenant.LegacyPool) {
			*p = withAdminKeys(*p)
			p.Admin.AccessKeyID = "AKIDOTHER"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStubCognito(t)
			s.add(stubUser{username: "una", sub: "una-sub", email: "una@example.com", password: "Una-Passw0rd!"})
			pool := stubPool(s)
			tc.setup(s, &pool)
			e := newEnv(t, pool)
			e.dir.Timeout = time.Second

			for range 7 { // more than the lockout allows
				start := time.Now()
				_, err := e.signIn("una", "Una-Passw0rd!")
				if !errors.Is(err, auth.ErrTemporarilyUnavailable) {
					t.Fatalf("%v, want ErrTemporarilyUnavailable", err)
				}
				if d := time.Since(start); d > 3*time.Second {
					t.Fatalf("took %v: the timeout did not hold", d)
				}
			}
			if n := e.countUsers(t); n != 0 {
				t.Errorf("%d users created", n)
			}
		})
	}
}

// A user imported without a password (tenant/cognitoimport) is completed,
// not duplicated: the sub and attributes of the import stay, the password
// comes from the pool.
func TestCompletesImportedUser(t *testing.T) {
	s := newStubCognito(t)
	s.add(stubUser{username: "ivy", sub: "ivy-sub", email: "ivy@example.com", password: "Ivy-Passw0rd!", attrs: map[string]string{"given_name": "Ivy"}})
	s.add(stubUser{username: "ole", sub: "ole-in-cognito", email: "ole@example.com", password: "Ole-Passw0rd!"})
	e := newEnv(t, stubPool(s))
	dump := `{"Users":[
	 {"Username":"ivy","Attributes":[{"Name":"sub","Value":"ivy-sub"},{"Name":"email","Value":"ivy@example.com"},{"Name":"email_verified","Value":"true"},{"Name":"custom:team","Value":"blue"}],"Enabled":true,"UserStatus":"CONFIRMED"},
	 {"Username":"ole","Attributes":[{"Name":"sub","Value":"ole-sub-here"},{"Name":"email","Value":"ole@example.com"}],"Enabled":true,"UserStatus":"CONFIRMED"},
	 {"Username":"gus","Attributes":[{"Name":"sub","Value":"ivy-sub-2"}],"Enabled":false,"UserStatus":"CONFIRMED"}]}`
	importJSON(t, e, dump)
	if u, _ := e.find(t, "ivy"); u.Status != tenant.StatusResetRequired || u.PasswordHash != "" {
		t.Fatalf("imported: %+v", u)
	}

	e.mustSignIn(t, "ivy@example.com", "Ivy-Passw0rd!")
	u, _ := e.find(t, "ivy")
	if u.Sub != "ivy-sub" || u.Status != tenant.StatusConfirmed || u.Attributes["custom:team"] != "blue" || u.Attributes["given_name"] != "Ivy" ||
		!strings.HasPrefix(u.PasswordHash, "$argon2id$") || e.countUsers(t) != 3 {
		t.Errorf("completed: %+v (%d users)", u, e.countUsers(t))
	}
	// The sub here wins over the pool's: it is the one relying parties
	// already saw.
	e.mustSignIn(t, "ole", "Ole-Passw0rd!")
	if u, _ := e.find(t, "ole"); u.Sub != "ole-sub-here" {
		t.Errorf("ole's sub became %s", u.Sub)
	}
	// A disabled import stays out, without asking the pool.
	calls := e.calls.Load()
	if _, err := e.signIn("gus", "whatever"); !errors.Is(err, auth.ErrNotAuthorized) || e.calls.Load() != calls {
		t.Errorf("disabled import: %v, %d calls", err, e.calls.Load()-calls)
	}
}

// The pool vouches for a user whose sub belongs to someone else here: the
// account cannot come over, and nothing changes.
func TestLegacyConflict(t *testing.T) {
	s := newStubCognito(t)
	s.add(stubUser{username: "kim", sub: "taken-sub", email: "kim@example.com", password: "Kim-Passw0rd!"})
	e := newEnv(t, stubPool(s))
	importJSON(t, e, `{"Users":[{"Username":"other","Attributes":[{"Name":"sub","Value":"taken-sub"}],"Enabled":true,"UserStatus":"CONFIRMED"}]}`)
	_, err := e.signIn("kim", "Kim-Passw0rd!")
	if !errors.Is(err, tenant.ErrLegacyConflict) || errors.Is(err, auth.ErrNotAuthorized) {
		t.Fatalf("%v, want ErrLegacyConflict", err)
	}
	if _, found := e.find(t, "kim"); found || e.countUsers(t) != 1 {
		t.Error("the conflicting account was written")
	}
}

// The pool vouches for a user whose sub belongs to someone else here who
// already has a password: the person is not signed in as that other user,
// even when the passwords are the same.
func TestLegacyConflictWithPassword(t *testing.T) {
	s := newStubCognito(t)
	s.add(stubUser{username: "lin", sub: "lin-sub", email: "lin@example.com", password: "Lin-Passw0rd!"})
	e := newEnv(t, stubPool(s))
	if _, err := e.svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "other", Sub: "lin-sub", Password: "Lin-Passw0rd!"}); err != nil {
		t.Fatal(err)
	}
	res, err := e.signIn("lin", "Lin-Passw0rd!")
	if !errors.Is(err, tenant.ErrLegacyConflict) {
		t.Fatalf("%+v, %v; want ErrLegacyConflict", res, err)
	}
	if _, found := e.find(t, "lin"); found || e.countUsers(t) != 1 {
		t.Error("the conflicting account was written")
	}
}

// Without administrator keys an MFA challenge tells nothing of the address
// typed, so an imported user's verified address stays verified.
func TestMFAChallengeKeepsEmailVerified(t *testing.T) {
	s := newStubCognito(t)
	s.add(stubUser{username: "val", sub: "val-sub", email: "val@example.com", password: "Val-Passw0rd!", mfa: true})
	e := newEnv(t, stubPool(s))
	importJSON(t, e, `{"Users":[{"Username":"val","Attributes":[{"Name":"sub","Value":"val-sub"},{"Name":"email","Value":"val@example.com"},{"Name":"email_verified","Value":"true"}],"Enabled":true,"UserStatus":"CONFIRMED"}]}`)
	if u, _ := e.find(t, "val"); !u.EmailVerified {
		t.Fatalf("imported: %+v", u)
	}
	e.mustSignIn(t, "val@example.com", "Val-Passw0rd!")
	if u, _ := e.find(t, "val"); u.PasswordHash == "" || u.Email != "val@example.com" || !u.EmailVerified {
		t.Errorf("migrated: %+v", u)
	}
}

// A forgotten password of a user who is only in the legacy pool: with
// administrator keys the pool is asked, the user created as
// RESET_REQUIRED and the code mailed as for anyone.
func TestForgotPasswordCognito(t *testing.T) {
	s := newStubCognito(t)
	s.add(stubUser{username: zoeSub, sub: zoeSub, email: "zoe@example.com", password: "Zoë's-Passw0rd!", groups: []string{"planners"}})
	e := newEnv(t, stubPool(s))

	// Without administrator keys Cognito cannot be asked: an unknown name.
	if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: "zoe@example.com", ClientIP: "192.0.2.7"}); err != nil {
		t.Fatal(err)
	}
	if e.countUsers(t) != 0 || len(e.queuedMail(t)) != 0 || e.calls.Load() != 0 {
		t.Fatal("a reset without administrator keys did something")
	}

	e.setPool(t, withAdminKeys(stubPool(s)))
	e.clk.Advance(2 * time.Minute) // past the reset's limit of one request a minute per name
	if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: "zoe@example.com", ClientIP: "192.0.2.7"}); err != nil {
		t.Fatal(err)
	}
	u, ok := e.find(t, "zoe@example.com")
	if !ok || u.Sub != zoeSub || u.Status != tenant.StatusResetRequired || u.PasswordHash != "" || !slices.Equal(u.Groups, []string{"planners"}) {
		t.Fatalf("brought over: %+v", u)
	}
	mails := e.queuedMail(t)
	if len(mails) != 1 || !slices.Equal(mails[0].To, []string{"zoe@example.com"}) {
		t.Fatalf("mail: %+v", mails)
	}
	code := codeIn(t, mails[0].Text)
	if err := e.svc.ConfirmPasswordReset(ctx, "acme", "zoe@example.com", code, "Brand-New-Passw0rd!"); err != nil {
		t.Fatal(err)
	}
	calls := e.calls.Load()
	e.mustSignIn(t, "zoe@example.com", "Brand-New-Passw0rd!")
	if e.calls.Load() != calls {
		t.Error("the legacy pool was asked after the reset")
	}

	// Someone the pool does not know, or that is down: an unknown name,
	// no error for the form to show.
	if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: "nobody@example.com", ClientIP: "192.0.2.7"}); err != nil {
		t.Error(err)
	}
	s.fail = "InternalErrorException"
	if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: "ghost", ClientIP: "192.0.2.7"}); err != nil {
		t.Error(err)
	}
	if e.countUsers(t) != 1 {
		t.Error("an unknown name was created")
	}
}

func importJSON(t *testing.T, e *env, dump string) {
	t.Helper()
	r, err := cognitoimport.NewJSONReader(strings.NewReader(dump))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := cognitoimport.Import(ctx, e.store, "acme", r, cognitoimport.Options{Now: e.clk.Now}, func(l cognitoimport.LineResult) {
		if l.Outcome == cognitoimport.Failed {
			t.Errorf("import line %d: %s", l.Line, l.Reason)
		}
	})
	if err != nil || sum.Failed > 0 {
		t.Fatalf("import: %+v, %v", sum, err)
	}
}

// codeIn finds the six-digit code in a reset mail.
func codeIn(t *testing.T, text string) string {
	t.Helper()
	for _, f := range strings.Fields(text) {
		if len(f) == 6 && strings.Trim(f, "0123456789") == "" {
			return f
		}
	}
	t.Fatalf("no code in:\n%s", text)
	return ""
}

// An error of the SRP proof is named after the call that gave it, for the
// log and for classify, which reads some answers by operation.
func TestSRPProofErrorNamesItsCall(t *testing.T) {
	s := newStubCognito(t)
	s.passwordAuth, s.failProof = false, "InternalErrorException"
	s.add(stubUser{username: "una", sub: "una-sub", email: "una@example.com", password: "Una-Passw0rd!"})
	e := newEnv(t, stubPool(s))
	_, err := e.dir.Authenticate(ctx, "acme", stubPool(s), "una", "Una-Passw0rd!")
	if !errors.Is(err, tenant.ErrLegacyUnavailable) || !strings.Contains(err.Error(), "RespondToAuthChallenge: InternalErrorException") ||
		strings.Contains(err.Error(), "InitiateAuth") {
		t.Errorf("%v, want ErrLegacyUnavailable from RespondToAuthChallenge", err)
	}
}

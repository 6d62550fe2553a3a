package legacy_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
	"github.com/cognate-idp/cognate/tenant/cognitoimport"
)

// Lazy migration against cognito-local as the legacy pool, through the AWS
// SDK's wire protocol.

func (p localPool) legacyPool() tenant.LegacyPool {
	return tenant.LegacyPool{Kind: tenant.LegacyCognito, Endpoint: p.c.endpoint, UserPoolID: p.poolID, ClientID: p.clientID}
}

func TestCognitoLocalSignIn(t *testing.T) {
	c := startCognitoLocal(t)
	p := c.createPool(t)
	annSub := p.addUser(t, localUser{username: "ann", email: "ann@example.com", password: "Ann-Passw0rd!",
		attrs: map[string]string{"custom:planner_id": "p-17"}, groups: []string{"planners", "staff"}})
	e := newEnv(t, p.legacyPool())

	// A wrong password (cognito-local: InvalidPasswordException, real
	// Cognito: NotAuthorizedException) and an unknown name are refusals.
	for _, cr := range [][2]string{{"ann", "Wrong-Passw0rd!"}, {"nobody", "Ann-Passw0rd!"}} {
		if _, err := e.signIn(cr[0], cr[1]); !errors.Is(err, auth.ErrNotAuthorized) {
			t.Fatalf("%s: %v, want ErrNotAuthorized", cr[0], err)
		}
	}
	if n := e.countUsers(t); n != 0 {
		t.Fatalf("refusals created %d users", n)
	}

	res := e.mustSignIn(t, "ann", "Ann-Passw0rd!")
	u, ok := e.find(t, "ann")
	if !ok || res.Sub != annSub || u.Sub != annSub || u.Username != "ann" || u.Status != tenant.StatusConfirmed ||
		u.Email != "ann@example.com" || !u.EmailVerified || u.Attributes["custom:planner_id"] != "p-17" ||
		!slices.Equal(u.Groups, []string{"planners", "staff"}) || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Fatalf("migrated user %+v (sub in Cognito %s)", u, annSub)
	}

	// From now on the password is Cognate's: with the pool gone, ann
	// still signs in, and the pool is not asked.
	c.stop()
	calls := e.calls.Load()
	e.mustSignIn(t, "ann", "Ann-Passw0rd!")
	if _, err := e.signIn("ann", "Wrong-Passw0rd!"); !errors.Is(err, auth.ErrNotAuthorized) {
		t.Errorf("wrong password after migration: %v", err)
	}
	if e.calls.Load() != calls {
		t.Errorf("the legacy pool was asked %d times after the migration", e.calls.Load()-calls)
	}

	// Someone not yet migrated, with the pool stopped: temporarily
	// unavailable, nothing created, nothing counted.
	for range 7 {
		if _, err := e.signIn("bob", "Bob-Passw0rd!"); !errors.Is(err, auth.ErrTemporarilyUnavailable) {
			t.Fatalf("pool stopped: %v, want ErrTemporarilyUnavailable", err)
		}
	}
	if n := e.countUsers(t); n != 1 {
		t.Errorf("%d users, want ann alone", n)
	}
}

// With administrator keys the profile comes from AdminGetUser (the ID
// token of cognito-local holds only email and custom attributes).
func TestCognitoLocalAdminProfile(t *testing.T) {
	c := startCognitoLocal(t)
	p := c.createPool(t)
	sub := p.addUser(t, localUser{username: "cleo", email: "cleo@example.com", password: "Cleo-Passw0rd!",
		attrs: map[string]string{"given_name": "Cleo", "family_name": "de Vries", "custom:team": "blue"}, groups: []string{"admins"}})
	pool := p.legacyPool()
	pool.Admin = tenant.AWSKeys{AccessKeyID: "AKIDLOCAL", SecretAccessKey: "local-secret"}
	e := newEnv(t, pool)

	e.mustSignIn(t, "cleo", "Cleo-Passw0rd!")
	u, _ := e.find(t, "cleo")
	if u.Sub != sub || u.Attributes["given_name"] != "Cleo" || u.Attributes["family_name"] != "de Vries" ||
		u.Attributes["custom:team"] != "blue" || !slices.Equal(u.Groups, []string{"admins"}) || !u.EmailVerified {
		t.Errorf("migrated %+v", u)
	}
}

// A user whose administrator set a temporary password: NEW_PASSWORD_REQUIRED
// there is the forced change here. (cognito-local answers it to a wrong
// temporary password as well; the documented behaviour, a refusal, is
// tested against the stub in TestNewPasswordRequired.)
func TestCognitoLocalNewPasswordRequired(t *testing.T) {
	c := startCognitoLocal(t)
	p := c.createPool(t)
	sub := p.addUser(t, localUser{username: "dirk", email: "dirk@example.com", password: "Temp-Passw0rd!", temporary: true})
	if st := p.user(t, "dirk").UserStatus; st != types.UserStatusTypeForceChangePassword {
		t.Fatalf("dirk is %s in cognito-local", st)
	}
	e := newEnv(t, p.legacyPool())

	res, err := e.signIn("dirk", "Temp-Passw0rd!")
	if err != nil || res.Challenge != auth.NewPasswordRequired {
		t.Fatalf("sign-in: %+v, %v", res, err)
	}
	u, _ := e.find(t, "dirk")
	// cognito-local puts the sub among the challenge's attributes.
	if u.Sub != sub || u.Status != tenant.StatusForceChangePassword || u.Email != "dirk@example.com" {
		t.Fatalf("migrated %+v", u)
	}
	if _, err := e.m.Respond(ctx, "acme", res.Session, auth.Answer{Challenge: auth.NewPasswordRequired, NewPassword: "Temp-Passw0rd!"}); !errors.Is(err, auth.ErrPasswordUnchanged) {
		t.Errorf("the temporary password again: %v", err)
	}
	done, err := e.m.Respond(ctx, "acme", res.Session, auth.Answer{Challenge: auth.NewPasswordRequired, NewPassword: "Dirk-Own-Passw0rd!"})
	if err != nil || !done.Done() || done.Sub != sub {
		t.Fatalf("new password: %+v, %v", done, err)
	}
	c.stop()
	e.mustSignIn(t, "dirk", "Dirk-Own-Passw0rd!")
}

// A user with TOTP in cognito-local: the SOFTWARE_TOKEN_MFA challenge
// proves the password; the factor itself does not come over. The
// challenge does not tell the sub, which the administrator keys fetch.
func TestCognitoLocalMFAChallenge(t *testing.T) {
	c := startCognitoLocal(t)
	p := c.createPool(t)
	sub := p.addUser(t, localUser{username: "eva", email: "eva@example.com", password: "Eva-Passw0rd!", groups: []string{"staff"}})
	p.enrolTOTP(t, "eva", "Eva-Passw0rd!")
	e := newEnv(t, p.legacyPool())

	if _, err := e.signIn("eva", "Wrong-Passw0rd!"); !errors.Is(err, auth.ErrNotAuthorized) {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := e.signIn("eva", "Eva-Passw0rd!"); !errors.Is(err, tenant.ErrLegacyIncomplete) {
		t.Errorf("without administrator keys: %v", err)
	}
	pool := p.legacyPool()
	pool.Admin = tenant.AWSKeys{AccessKeyID: "AKIDLOCAL", SecretAccessKey: "local-secret"}
	e.setPool(t, pool)
	e.mustSignIn(t, "eva", "Eva-Passw0rd!")
	u, _ := e.find(t, "eva")
	if u.Sub != sub || u.Status != tenant.StatusConfirmed || u.Attributes[cognitoimport.AttrMFAReenroll] != "true" ||
		u.Email != "eva@example.com" || !slices.Equal(u.Groups, []string{"staff"}) {
		t.Errorf("migrated %+v", u)
	}
}

// enrolTOTP turns on TOTP for a user the way an app does: sign in,
// AssociateSoftwareToken, VerifySoftwareToken with a code, prefer it; and
// makes MFA optional for the pool.
func (p localPool) enrolTOTP(t *testing.T, username, password string) {
	t.Helper()
	api := p.c.admin
	in, err := api.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserPasswordAuth, ClientId: aws.String(p.clientID),
		AuthParameters: map[string]string{"USERNAME": username, "PASSWORD": password}})
	if err != nil || in.AuthenticationResult == nil {
		t.Fatalf("sign in at cognito-local: %v", err)
	}
	token := in.AuthenticationResult.AccessToken
	assoc, err := api.AssociateSoftwareToken(ctx, &cip.AssociateSoftwareTokenInput{AccessToken: token})
	if err != nil {
		t.Fatalf("AssociateSoftwareToken: %v", err)
	}
	if _, err := api.VerifySoftwareToken(ctx, &cip.VerifySoftwareTokenInput{AccessToken: token,
		UserCode: aws.String(totp(t, aws.ToString(assoc.SecretCode), time.Now()))}); err != nil {
		t.Fatalf("VerifySoftwareToken: %v", err)
	}
	if _, err := api.SetUserMFAPreference(ctx, &cip.SetUserMFAPreferenceInput{AccessToken: token,
		SoftwareTokenMfaSettings: &types.SoftwareTokenMfaSettingsType{Enabled: true, PreferredMfa: true}}); err != nil {
		t.Fatalf("SetUserMFAPreference: %v", err)
	}
	if _, err := api.SetUserPoolMfaConfig(ctx, &cip.SetUserPoolMfaConfigInput{UserPoolId: aws.String(p.poolID),
		MfaConfiguration: types.UserPoolMfaTypeOptional, SoftwareTokenMfaConfiguration: &types.SoftwareTokenMfaConfigType{Enabled: true}}); err != nil {
		t.Fatalf("SetUserPoolMfaConfig: %v", err)
	}
}

// totp is RFC 6238's code (SHA-1, 30 s, 6 digits) for a base32 secret.
func totp(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(strings.TrimRight(secret, "=")))
	if err != nil {
		t.Fatalf("TOTP secret: %v", err)
	}
	var counter [8]byte
	binary.BigEndian.PutUint64(counter[:], uint64(at.Unix()/30))
	mac := hmac.New(sha1.New, key)
	mac.Write(counter[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	code := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", code%1_000_000)
}

// A forgotten password of a user only in cognito-local, with administrator
// keys: looked up, created here as RESET_REQUIRED, reset by mailed code.
func TestCognitoLocalForgotPassword(t *testing.T) {
	c := startCognitoLocal(t)
	p := c.createPool(t)
	sub := p.addUser(t, localUser{username: "finn", email: "finn@example.com", password: "Finn-Passw0rd!", groups: []string{"staff"}})
	pool := p.legacyPool()
	pool.Admin = tenant.AWSKeys{AccessKeyID: "AKIDLOCAL", SecretAccessKey: "local-secret"}
	e := newEnv(t, pool)

	if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: "finn", ClientIP: "192.0.2.8"}); err != nil {
		t.Fatal(err)
	}
	u, ok := e.find(t, "finn")
	if !ok || u.Sub != sub || u.Status != tenant.StatusResetRequired || u.Email != "finn@example.com" || !slices.Equal(u.Groups, []string{"staff"}) {
		t.Fatalf("brought over: %+v", u)
	}
	mails := e.queuedMail(t)
	if len(mails) != 1 {
		t.Fatalf("%d mails", len(mails))
	}
	if err := e.svc.ConfirmPasswordReset(ctx, "acme", "finn", codeIn(t, mails[0].Text), "Finn-New-Passw0rd!"); err != nil {
		t.Fatal(err)
	}
	c.stop()
	e.mustSignIn(t, "finn", "Finn-New-Passw0rd!")
}

// The bulk import's round trip: users made in cognito-local, exported with
// ListUsers and AdminListGroupsForUser through the SDK, written as the JSON
// the API returns, imported with tenant/cognitoimport, and signed in. The
// export has no passwords, so the users come in as RESET_REQUIRED, and lazy
// migration supplies each password at the first sign-in.
func TestCognitoLocalExportImportSignIn(t *testing.T) {
	c := startCognitoLocal(t)
	p := c.createPool(t)
	users := []localUser{
		{username: "gina", email: "gina@example.com", password: "Gina-Passw0rd!", groups: []string{"admins", "staff"},
			attrs: map[string]string{"given_name": "Gina", "custom:planner_id": "p-1"}},
		{username: "hugo", email: "hugo@example.com", password: "Hugo-Passw0rd!", attrs: map[string]string{"phone_number": "+31201234567"}},
		{username: "ines", email: "ines@example.com", password: "Ines-Passw0rd!", groups: []string{"staff"}},
	}
	subs := map[string]string{}
	for _, u := range users {
		subs[u.username] = p.addUser(t, u)
	}

	dump := p.export(t)
	e := newEnv(t, p.legacyPool())
	importJSON(t, e, string(dump))
	for _, lu := range users {
		u, ok := e.find(t, lu.username)
		if !ok || u.Sub != subs[lu.username] || u.Status != tenant.StatusResetRequired || u.PasswordHash != "" ||
			!slices.Equal(u.Groups, lu.groups) || u.Email != lu.email {
			t.Fatalf("imported %s: %+v", lu.username, u)
		}
	}
	if u, _ := e.find(t, "gina"); u.Attributes["given_name"] != "Gina" || u.Attributes["custom:planner_id"] != "p-1" {
		t.Errorf("gina's attributes: %v", u.Attributes)
	}

	for _, lu := range users {
		res := e.mustSignIn(t, lu.username, lu.password)
		u, _ := e.find(t, lu.username)
		if res.Sub != subs[lu.username] || u.Status != tenant.StatusConfirmed || !slices.Equal(u.Groups, lu.groups) {
			t.Errorf("%s after sign-in: %+v", lu.username, u)
		}
	}
	if n := e.countUsers(t); n != len(users) {
		t.Errorf("%d users, want %d", n, len(users))
	}
	c.stop()
	for _, lu := range users {
		e.mustSignIn(t, lu.username, lu.password)
	}
}

// export dumps the pool as `aws cognito-idp list-users` pages, each user
// with its AdminListGroupsForUser groups, in the API's JSON (timestamps in
// epoch seconds).
func (p localPool) export(t *testing.T) []byte {
	t.Helper()
	type attr struct{ Name, Value string }
	type group struct {
		GroupName   string
		Description string `json:",omitempty"`
		Precedence  *int32 `json:",omitempty"`
	}
	type user struct {
		Username       string
		Attributes     []attr
		Enabled        bool
		UserStatus     string
		UserCreateDate float64
		Groups         []group
	}
	type page struct{ Users []user }
	var pages []page
	var token *string
	for {
		out, err := p.c.admin.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(p.poolID), PaginationToken: token})
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		var pg page
		for _, u := range out.Users {
			x := user{Username: aws.ToString(u.Username), Enabled: u.Enabled, UserStatus: string(u.UserStatus), Groups: []group{}}
			if u.UserCreateDate != nil {
				x.UserCreateDate = float64(u.UserCreateDate.UnixMilli()) / 1000
			}
			for _, a := range u.Attributes {
				x.Attributes = append(x.Attributes, attr{aws.ToString(a.Name), aws.ToString(a.Value)})
			}
			var next *string
			for {
				gs, err := p.c.admin.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{UserPoolId: aws.String(p.poolID),
					Username: u.Username, NextToken: next})
				if err != nil {
					t.Fatalf("AdminListGroupsForUser: %v", err)
				}
				for _, g := range gs.Groups {
					x.Groups = append(x.Groups, group{GroupName: aws.ToString(g.GroupName), Description: aws.ToString(g.Description), Precedence: g.Precedence})
				}
				if next = gs.NextToken; aws.ToString(next) == "" {
					break
				}
			}
			pg.Users = append(pg.Users, x)
		}
		pages = append(pages, pg)
		if token = out.PaginationToken; aws.ToString(token) == "" {
			break
		}
	}
	raw, err := json.Marshal(pages)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

package tenant_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/bolt"
)

func TestLegacyPoolValidation(t *testing.T) {
	const secret = "0123456789abcdef0123456789"
	for _, tc := range []struct {
		name string
		pool LegacyPool
		want string // a problem's words; "" for valid
	}{
		{"none", LegacyPool{}, ""},
		{"cognito", LegacyPool{Kind: LegacyCognito, UserPoolID: "eu-west-1_AbC123", ClientID: "1example23456789", ClientSecret: "s"}, ""},
		{"cognito with keys and SRP", LegacyPool{Kind: LegacyCognito, UserPoolID: "eu-west-1_AbC123", ClientID: "c", AuthFlow: FlowUserSRP,
			Admin: AWSKeys{AccessKeyID: "AKID", SecretAccessKey: "k"}}, ""},
		{"cognito-local", LegacyPool{Kind: LegacyCognito, Endpoint: "http://127.0.0.1:9229", UserPoolID: "local_5bc2Kd1x", ClientID: "c"}, ""},
		{"VPC endpoint", LegacyPool{Kind: LegacyCognito, Region: "eu-west-1", Endpoint: "https://vpce-1.cognito-idp.eu-west-1.vpce.amazonaws.com", UserPoolID: "eu-west-1_X1", ClientID: "c"}, ""},
		{"webhook", LegacyPool{Kind: LegacyWebhook, WebhookURL: "https://legacy.example.com/migrate", WebhookSecret: secret}, ""},
		{"webhook on localhost", LegacyPool{Kind: LegacyWebhook, WebhookURL: "http://localhost:8080/migrate", WebhookSecret: secret}, ""},
		{"webhook on a loopback address", LegacyPool{Kind: LegacyWebhook, WebhookURL: "http://[::1]:8080/migrate", WebhookSecret: secret}, ""},

		{"unknown kind", LegacyPool{Kind: "ldap"}, "kind"},
		{"pool ID", LegacyPool{Kind: LegacyCognito, UserPoolID: "AbC123", ClientID: "c"}, "user pool ID"},
		{"region", LegacyPool{Kind: LegacyCognito, Region: "EU West", UserPoolID: "eu-west-1_AbC", ClientID: "c"}, "region"},
		{"no client", LegacyPool{Kind: LegacyCognito, UserPoolID: "eu-west-1_AbC"}, "app client"},
		{"http endpoint", LegacyPool{Kind: LegacyCognito, Endpoint: "http://cognito.example.com", UserPoolID: "eu-west-1_AbC", ClientID: "c"}, "https"},
		{"auth flow", LegacyPool{Kind: LegacyCognito, UserPoolID: "eu-west-1_AbC", ClientID: "c", AuthFlow: "CUSTOM_AUTH"}, "auth flow"},
		{"half a key", LegacyPool{Kind: LegacyCognito, UserPoolID: "eu-west-1_AbC", ClientID: "c", Admin: AWSKeys{SecretAccessKey: "k"}}, "both"},
		{"cognito with a webhook", LegacyPool{Kind: LegacyCognito, UserPoolID: "eu-west-1_AbC", ClientID: "c", WebhookURL: "https://x.example"}, "no webhook"},
		{"webhook over http", LegacyPool{Kind: LegacyWebhook, WebhookURL: "http://legacy.example.com/migrate", WebhookSecret: secret}, "https"},
		// Names that look like loopback addresses are DNS names.
		{"webhook over http to a name like an address", LegacyPool{Kind: LegacyWebhook, WebhookURL: "http://127.0.0.attacker/x", WebhookSecret: secret}, "https"},
		{"endpoint over http to a name like an address", LegacyPool{Kind: LegacyCognito, Endpoint: "http://127.evil.attacker.example/", UserPoolID: "eu-west-1_AbC", ClientID: "c"}, "https"},
		{"webhook with credentials", LegacyPool{Kind: LegacyWebhook, WebhookURL: "https://u:p@legacy.example.com/", WebhookSecret: secret}, "credentials"},
		{"webhook without secret", LegacyPool{Kind: LegacyWebhook, WebhookURL: "https://legacy.example.com/"}, "signing secret"},
		{"webhook with Cognito fields", LegacyPool{Kind: LegacyWebhook, WebhookURL: "https://legacy.example.com/", WebhookSecret: secret, ClientID: "c"}, "no Cognito"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Settings{Legacy: tc.pool}.WithDefaults()
			err := ValidateSettings(s)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("%v, want a problem about %q", err, tc.want)
			}
		})
	}
}

// A refused URL is named in the refusal, which the operator reads and the
// log keeps, as RedactURL shows it: without the credentials or query key
// that may be the very reason it is refused.
func TestLegacyPoolRefusalHidesURLSecrets(t *testing.T) {
	const secret = "0123456789abcdef0123456789"
	for _, tc := range []struct {
		name  string
		pool  LegacyPool
		shown string // what of the URL the refusal names
		want  string // what the refusal says
	}{
		{"webhook with credentials", LegacyPool{Kind: LegacyWebhook, WebhookURL: "https://ALICE:PASSW0RD@legacy.example.com/hook", WebhookSecret: secret},
			`"https://legacy.example.com/hook"`, "may not hold credentials"},
		{"webhook over http with a key", LegacyPool{Kind: LegacyWebhook, WebhookURL: "http://evil.com/hook?api_key=SECRETKEY123", WebhookSecret: secret},
			`"http://evil.com/hook"`, "must use https"},
		{"webhook with a key and a fragment", LegacyPool{Kind: LegacyWebhook, WebhookURL: "https://legacy.example.com/hook?code=SECRETKEY123#SECRETFRAG", WebhookSecret: secret},
			`"https://legacy.example.com/hook"`, "fragment"},
		{"relative webhook with a key", LegacyPool{Kind: LegacyWebhook, WebhookURL: "/hook?code=SECRETKEY123", WebhookSecret: secret},
			`"/hook"`, "absolute URL"},
		{"unreadable webhook", LegacyPool{Kind: LegacyWebhook, WebhookURL: "https://ALICE:PASSW0RD@legacy.example.com:port/%zz", WebhookSecret: secret},
			"webhook URL", "cannot be read as a URL"},
		{"endpoint with credentials", LegacyPool{Kind: LegacyCognito, Endpoint: "https://AKIA:SECRETAWS@vpce.example.com", UserPoolID: "eu-west-1_AbC", ClientID: "c"},
			`"https://vpce.example.com"`, "may not hold credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateSettings(Settings{Legacy: tc.pool}.WithDefaults())
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.shown) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v, want a refusal naming %s that says %q", err, tc.shown, tc.want)
			}
			for _, s := range []string{"ALICE", "PASSW0RD", "AKIA", "SECRETAWS", "SECRETKEY123", "SECRETFRAG"} {
				if err != nil && strings.Contains(err.Error(), s) {
					t.Errorf("the refusal shows %s: %v", s, err)
				}
			}
		})
	}
}

func TestLegacyPoolRegion(t *testing.T) {
	for _, tc := range []struct {
		pool LegacyPool
		want string
	}{
		{LegacyPool{UserPoolID: "eu-west-1_AbC123"}, "eu-west-1"},
		{LegacyPool{UserPoolID: "local_AbC"}, "local"},
		{LegacyPool{Region: "us-east-2", UserPoolID: "eu-west-1_AbC"}, "us-east-2"},
	} {
		if got := tc.pool.AWSRegion(); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.pool, got, tc.want)
		}
	}
}

// Secrets stay out of logs whatever logs the pool; a webhook's query (where
// serverless platforms put keys) too. A new user's password as well.
func TestLegacyPoolLogValue(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.Info("pools",
		"cognito", LegacyPool{Kind: LegacyCognito, UserPoolID: "eu-west-1_AbC", ClientID: "c", ClientSecret: "CLIENT-SECRET",
			Admin: AWSKeys{AccessKeyID: "AKID", SecretAccessKey: "ADMIN-SECRET"}},
		"webhook", LegacyPool{Kind: LegacyWebhook, WebhookURL: "https://f.example.net/api/migrate?code=FUNCTION-KEY", WebhookSecret: "WEBHOOK-SECRET"},
		"settings", Settings{Legacy: LegacyPool{Kind: LegacyWebhook, WebhookSecret: "NESTED-SECRET"}},
		"tenant", Tenant{Slug: "acme", Settings: Settings{Legacy: LegacyPool{Kind: LegacyCognito, ClientSecret: "TENANT-SECRET",
			Endpoint: "https://vpce.example.com/?key=ENDPOINT-KEY"}}},
		"new user", NewUser{Username: "ann", Password: "NEW-USER-PASSWORD"})
	out := buf.String()
	for _, s := range []string{"CLIENT-SECRET", "ADMIN-SECRET", "FUNCTION-KEY", "WEBHOOK-SECRET", "NESTED-SECRET", "TENANT-SECRET", "ENDPOINT-KEY", "NEW-USER-PASSWORD"} {
		if strings.Contains(out, s) {
			t.Errorf("log shows %s: %s", s, out)
		}
	}
	if !strings.Contains(out, "https://f.example.net/api/migrate") || !strings.Contains(out, "eu-west-1_AbC") || !strings.Contains(out, `"slug":"acme"`) {
		t.Errorf("log lacks the pool's name: %s", out)
	}
}

func TestLegacyPoolChangeKeepsSecrets(t *testing.T) {
	old := LegacyPool{Kind: LegacyCognito, UserPoolID: "eu-west-1_A", ClientID: "c", ClientSecret: "cs", Admin: AWSKeys{AccessKeyID: "AKID", SecretAccessKey: "as"}}
	got := SettingsChange{Legacy: &LegacyPoolChange{
		Pool:             LegacyPool{Kind: LegacyCognito, UserPoolID: "eu-west-1_B", ClientID: "c", Admin: AWSKeys{AccessKeyID: "AKID"}},
		KeepClientSecret: true, KeepAdminSecret: true,
	}}.Apply(Settings{Legacy: old}).Legacy
	if got.UserPoolID != "eu-west-1_B" || got.ClientSecret != "cs" || got.Admin.SecretAccessKey != "as" {
		t.Errorf("kept: %+v", got)
	}
	got = SettingsChange{Legacy: &LegacyPoolChange{Pool: LegacyPool{Kind: LegacyCognito, UserPoolID: "eu-west-1_B", ClientID: "c"}}}.Apply(Settings{Legacy: old}).Legacy
	if got.ClientSecret != "" || got.Admin.SecretAccessKey != "" {
		t.Errorf("not kept: %+v", got)
	}
	// From a webhook to a Cognito pool and back, with every secret "kept"
	// (a client that sends the write-only fields it left out as keep): the
	// other kind's secret does not come along, and the new pool is valid.
	hook := LegacyPool{Kind: LegacyWebhook, WebhookURL: "https://f.example.net/api/migrate", WebhookSecret: strings.Repeat("s", 32)}
	keepAll := func(p LegacyPool) SettingsChange {
		return SettingsChange{Legacy: &LegacyPoolChange{Pool: p, KeepClientSecret: true, KeepAdminSecret: true, KeepWebhookSecret: true}}
	}
	got = keepAll(LegacyPool{Kind: LegacyCognito, UserPoolID: "eu-west-1_B", ClientID: "c"}).Apply(Settings{Legacy: hook}).Legacy
	if err := ValidateSettings(Settings{Legacy: got}.WithDefaults()); got.WebhookSecret != "" || err != nil {
		t.Errorf("webhook to Cognito: %+v, %v", got, err)
	}
	got = keepAll(LegacyPool{Kind: LegacyWebhook, WebhookURL: "https://g.example.net/m"}).Apply(Settings{Legacy: old}).Legacy
	if got.ClientSecret != "" || got.Admin.SecretAccessKey != "" || got.WebhookSecret != "" {
		t.Errorf("Cognito to webhook: %+v", got)
	}
}

// PutLegacyUser in the situations the sign-in and the reset meet.
// Unkept names the email of an account only when it is not an address,
// and not one that only has spaces around it, which PutLegacyUser keeps
// without them.
func TestLegacyAccountUnkeptEmail(t *testing.T) {
	for _, tc := range []struct {
		email string
		want  string
	}{
		{"", ""},
		{"ann@example.com", ""},
		{" ann@example.com\t", ""},
		{"   ", ""},
		{"not an address", CodeEmailInvalid},
		{"Ann <ann@example.com>", CodeEmailInvalid},
	} {
		if got := (LegacyAccount{Email: tc.email}).Unkept()["email"]; got != tc.want {
			t.Errorf("Unkept of %q: email %q, want %q", tc.email, got, tc.want)
		}
	}
}

func TestPutLegacyUser(t *testing.T) {
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	confirm := func(u *User) { u.Status, u.PasswordHash = StatusConfirmed, "$argon2id$stand-in" }
	imported := User{Sub: "sub-ann", Username: "ann", Email: "ann@example.com", EmailVerified: true, Status: StatusResetRequired, Enabled: true,
		Attributes: map[string]string{"custom:team": "blue"}}
	for _, tc := range []struct {
		name    string
		here    []User
		login   string
		acct    LegacyAccount
		wantErr error
		check   func(t *testing.T, u User)
	}{
		{"new user, sub kept", nil, "bo", LegacyAccount{Username: "bo", Sub: "sub-bo", Email: "bo@example.com", EmailVerified: true,
			Attributes: map[string]string{"given_name": "Bo", "aud": "dropped", "custom:x": "1"}, Groups: []string{"staff", "staff", " bad"}, GroupsKnown: true}, nil,
			func(t *testing.T, u User) {
				if u.Sub != "sub-bo" || u.Attributes["given_name"] != "Bo" || u.Attributes["aud"] != "" || len(u.Groups) != 1 || u.Groups[0] != "staff" ||
					u.Status != StatusConfirmed || !u.Enabled || !u.CreatedAt.Equal(now) {
					t.Errorf("%+v", u)
				}
			}},
		{"new user by email alias", nil, "cy@example.com", LegacyAccount{Username: "9f1c-uuid", Sub: "9f1c-uuid", Email: "cy@example.com"}, nil,
			func(t *testing.T, u User) {
				if u.Username != "9f1c-uuid" || u.Email != "cy@example.com" || u.EmailVerified {
					t.Errorf("%+v", u)
				}
			}},
		{"no username from the pool: the name typed", nil, "dee", LegacyAccount{Sub: "sub-dee"}, nil,
			func(t *testing.T, u User) {
				if u.Username != "dee" {
					t.Errorf("%+v", u)
				}
			}},
		{"imported user completed", []User{imported}, "ann@example.com", LegacyAccount{Username: "ann", Sub: "other-sub", Attributes: map[string]string{"given_name": "Ann"}}, nil,
			func(t *testing.T, u User) {
				if u.Sub != "sub-ann" || u.Attributes["custom:team"] != "blue" || u.Attributes["given_name"] != "Ann" || u.Email != "ann@example.com" ||
					!u.EmailVerified || u.Status != StatusConfirmed {
					t.Errorf("%+v", u)
				}
			}},
		{"imported, the pool withholds the sub", []User{imported}, "ann", LegacyAccount{Username: "ann", SubWithheld: true}, nil,
			func(t *testing.T, u User) {
				if u.Sub != "sub-ann" {
					t.Errorf("%+v", u)
				}
			}},
		{"not imported, the pool withholds the sub", nil, "eli", LegacyAccount{Username: "eli", SubWithheld: true}, ErrLegacyIncomplete, nil},
		{"already has a password", []User{{Sub: "s", Username: "fay", Status: StatusConfirmed, Enabled: true, PasswordHash: "h"}}, "fay",
			LegacyAccount{Username: "fay"}, ErrAlreadyExists, nil},
		{"not activated here", []User{{Sub: "s", Username: "gus", Status: StatusUnconfirmed, Enabled: true}}, "gus",
			LegacyAccount{Username: "gus"}, ErrLegacyConflict, nil},
		{"disabled here", []User{{Sub: "s", Username: "hal", Status: StatusResetRequired}}, "hal",
			LegacyAccount{Username: "hal"}, ErrLegacyConflict, nil},
		{"the sub is someone else's", []User{{Sub: "sub-x", Username: "ida", Status: StatusResetRequired, Enabled: true}}, "jan",
			LegacyAccount{Username: "jan", Sub: "sub-x"}, ErrLegacyConflict, nil},
		{"an invalid username", nil, "kim", LegacyAccount{Username: "has space"}, ErrLegacyConflict, nil},
		// A sub no front end could name the user by (ValidateSub): the
		// pool's answer is unusable, as an unreadable one.
		{"sub ..", nil, "kai", LegacyAccount{Username: "kai", Sub: ".."}, ErrLegacyUnavailable, nil},
		{"sub with a slash", nil, "kai", LegacyAccount{Username: "kai", Sub: "a/b"}, ErrLegacyUnavailable, nil},
		{"sub with a space", nil, "kai", LegacyAccount{Username: "kai", Sub: "has space"}, ErrLegacyUnavailable, nil},
		{"sub too long", nil, "kai", LegacyAccount{Username: "kai", Sub: strings.Repeat("x", 200)}, ErrLegacyUnavailable, nil},
		{"sub not ASCII", nil, "kai", LegacyAccount{Username: "kai", Sub: "ünï"}, ErrLegacyUnavailable, nil},
		{"bad sub, imported user", []User{imported}, "ann", LegacyAccount{Username: "ann", Sub: ".."}, ErrLegacyUnavailable, nil},
		// Not ErrAlreadyExists: the caller would try the password on
		// that other user, and sign the person in as them.
		{"the sub is someone else's, who signs in here", []User{{Sub: "sub-y", Username: "lea", Status: StatusConfirmed, Enabled: true, PasswordHash: "h"}}, "mat",
			LegacyAccount{Username: "mat", Sub: "sub-y"}, ErrLegacyConflict, nil},
		{"imported, the pool echoes the address typed", []User{imported}, "ann@example.com",
			LegacyAccount{Username: "ann", SubWithheld: true, Email: "ann@example.com", EmailVerifiedUnknown: true}, nil,
			func(t *testing.T, u User) {
				if u.Email != "ann@example.com" || !u.EmailVerified {
					t.Errorf("%+v", u)
				}
			}},
		{"imported, the pool echoes another address", []User{imported}, "ann@new.example.com",
			LegacyAccount{Username: "ann", SubWithheld: true, Email: "ann@new.example.com", EmailVerifiedUnknown: true}, nil,
			func(t *testing.T, u User) {
				if u.Email != "ann@new.example.com" || u.EmailVerified {
					t.Errorf("%+v", u)
				}
			}},
		// Taken without the spaces, as an administrator's is, not
		// dropped as no address.
		{"an address with spaces around it", nil, "ned", LegacyAccount{Username: "ned", Email: " ned@example.com ", EmailVerified: true}, nil,
			func(t *testing.T, u User) {
				if u.Email != "ned@example.com" || !u.EmailVerified {
					t.Errorf("%+v", u)
				}
			}},
		{"imported, the pool says the address is not verified", []User{imported}, "ann",
			LegacyAccount{Username: "ann", Sub: "sub-ann", Email: "ann@example.com"}, nil,
			func(t *testing.T, u User) {
				if u.Email != "ann@example.com" || u.EmailVerified {
					t.Errorf("%+v", u)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, err := bolt.Open(filepath.Join(t.TempDir(), "cognate.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			ctx := context.Background()
			err = store.Update(ctx, func(tx Tx) error {
				if err := PutTenant(tx, Tenant{Slug: "acme"}); err != nil {
					return err
				}
				for _, u := range tc.here {
					if err := InsertUser(tx, "acme", u); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var u User
			err = store.Update(ctx, func(tx Tx) (err error) {
				u, err = PutLegacyUser(tx, "acme", tc.login, tc.acct, now, confirm)
				return err
			})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("%v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			err = store.View(ctx, func(tx Tx) error {
				stored, err := GetUser(tx, "acme", u.Sub)
				if err != nil {
					return err
				}
				tc.check(t, stored)
				for _, g := range stored.Groups {
					if _, err := tx.Get(CollGroups, "acme", g); err != nil {
						t.Errorf("group %s not created: %v", g, err)
					}
				}
				// The migration is in the audit trail, by the system.
				return tx.Scan(CollAudit, "acme", "", "", func(_ string, raw []byte) bool {
					if !bytes.Contains(raw, []byte(`"source":"legacy_pool"`)) || !bytes.Contains(raw, []byte(`"kind":"system"`)) {
						t.Errorf("audit record %s", raw)
					}
					return true
				})
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

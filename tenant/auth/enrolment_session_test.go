package auth_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mfa/mfatest"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
)

// An enrolment of the account page counts for the SSO session it is
// answered in (Answer.SSOSessionID): that session's amr gains what the
// answer proved, in the enrolment's transaction, and keeps its sign-in
// time and expiry. No other session changes, none is started, and a
// session that is gone, or another user's, does not stop the enrolment.
func TestEnrolmentCountsForItsSession(t *testing.T) {
	tests := []struct {
		name string
		kind auth.Challenge
		// amr is what ann's session proved at its sign-in.
		amr []string
		// in is the session the answer names: "ann", "bob", "gone" or
		// "" for none.
		in string
		// annWant and bobWant are the two sessions' amr after.
		annWant, bobWant []string
	}{
		{"app, in her session", auth.SoftwareTokenMFA, []string{"pwd"}, "ann", []string{"pwd", "otp", "mfa"}, []string{"pwd"}},
		{"key, in her session", auth.WebAuthn, []string{"pwd"}, "ann", []string{"pwd", "hwk", "mfa"}, []string{"pwd"}},
		{"key, in a session that proved the app", auth.WebAuthn, []string{"pwd", "otp", "mfa"}, "ann",
			[]string{"pwd", "otp", "mfa", "hwk"}, []string{"pwd"}},
		{"in another user's session", auth.SoftwareTokenMFA, []string{"pwd"}, "bob", []string{"pwd"}, []string{"pwd"}},
		{"in a session ended meanwhile", auth.SoftwareTokenMFA, []string{"pwd"}, "gone", []string{"pwd"}, []string{"pwd"}},
		{"in none", auth.SoftwareTokenMFA, []string{"pwd"}, "", []string{"pwd"}, []string{"pwd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
			ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
			bob := e.user(t, tenant.NewUser{Username: "bob", Password: annPassword})
			signedIn := e.clk.t.Add(-5 * time.Minute)
			tokens := map[string]string{"ann": tenant.NewSessionToken(), "bob": tenant.NewSessionToken(), "gone": tenant.NewSessionToken()}
			err := e.svc.Store.Update(ctx, func(tx tenant.Tx) error {
				return errors.Join(tenant.StartSession(tx, "acme", tokens["ann"], ann.Sub, tt.amr, signedIn, signedIn, tenant.SessionTTL),
					tenant.StartSession(tx, "acme", tokens["bob"], bob.Sub, []string{"pwd"}, signedIn, signedIn, tenant.SessionTTL))
			})
			if err != nil {
				t.Fatal(err)
			}
			in := ""
			if tt.in != "" {
				in = tenant.SessionID(tokens[tt.in])
			}

			res, err := e.m.BeginEnrolment(ctx, "acme", ann.Sub, tt.kind)
			if err != nil {
				t.Fatal(err)
			}
			a := auth.Answer{FactorName: "New", ClientIP: "192.0.2.9", SSOSessionID: in}
			if tt.kind == auth.SoftwareTokenMFA {
				a.Code = totpCode(res.MFA.TOTP.Secret, e.clk.t)
			} else {
				a.Credential = mfatest.NewSecurityKey(t).Register(res.MFA.WebAuthnOptions, "http://acme.localhost:8080")
			}
			if _, err := e.m.FinishEnrolment(ctx, "acme", ann.Sub, res.Session, a); err != nil {
				t.Fatalf("finish: %v", err)
			}
			if u, _ := e.svc.User(ctx, "acme", ann.Sub); !u.MFA.HasFactor() {
				t.Fatal("the factor was not added")
			}

			for who, want := range map[string][]string{"ann": tt.annWant, "bob": tt.bobWant} {
				var sess tenant.Session
				err := e.svc.Store.View(ctx, func(tx tenant.Tx) error {
					var err error
					sess, err = tenant.SessionByToken(tx, "acme", tokens[who])
					return err
				})
				if err != nil {
					t.Fatalf("%s's session: %v", who, err)
				}
				if !slices.Equal(sess.AMR, want) {
					t.Errorf("%s's session amr %v, want %v", who, sess.AMR, want)
				}
				if !sess.AuthTime.Equal(signedIn) || !sess.ExpiresAt.Equal(signedIn.Add(tenant.SessionTTL)) {
					t.Errorf("%s's session signed in at %v, expiring %v: moved", who, sess.AuthTime, sess.ExpiresAt)
				}
			}
			err = e.svc.Store.View(ctx, func(tx tenant.Tx) error {
				_, err := tenant.SessionByToken(tx, "acme", tokens["gone"])
				return err
			})
			if !errors.Is(err, tenant.ErrNotFound) {
				t.Errorf("the session that was gone: %v, want none", err)
			}
		})
	}
}

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
// answered in (Answer.SSOSessionID): that session is marked as having set
// up a factor, in the enrolment's transaction, and keeps its amr, sign-in
// time and expiry, so that the MFA policy counts it (SessionMeetsPolicy)
// while its ID tokens say what its sign-in proved. No other session
// changes, and a session that is gone, or another user's, does not stop
// the enrolment.
func TestEnrolmentCountsForItsSession(t *testing.T) {
	tests := []struct {
		name string
		kind auth.Challenge
		// amr is what ann's session proved at its sign-in.
		amr []string
		// in is the session the answer names: "ann", "bob", "gone" or
		// "" for none.
		in string
		// annMarked: ann's session is marked after; bob's never is.
		annMarked bool
	}{
		{"app, in her session", auth.SoftwareTokenMFA, []string{"pwd"}, "ann", true},
		{"key, in her session", auth.WebAuthn, []string{"pwd"}, "ann", true},
		{"key, in a session that proved the app", auth.WebAuthn, []string{"pwd", "otp", "mfa"}, "ann", true},
		{"in another user's session", auth.SoftwareTokenMFA, []string{"pwd"}, "bob", false},
		{"in a session ended meanwhile", auth.SoftwareTokenMFA, []string{"pwd"}, "gone", false},
		{"in none", auth.SoftwareTokenMFA, []string{"pwd"}, "", false},
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

			for who, want := range map[string]struct {
				amr    []string
				marked bool
			}{"ann": {tt.amr, tt.annMarked}, "bob": {[]string{"pwd"}, false}} {
				var sess tenant.Session
				err := e.svc.Store.View(ctx, func(tx tenant.Tx) error {
					var err error
					sess, err = tenant.SessionByToken(tx, "acme", tokens[who])
					return err
				})
				if err != nil {
					t.Fatalf("%s's session: %v", who, err)
				}
				if !slices.Equal(sess.AMR, want.amr) || sess.FactorSetUp != want.marked {
					t.Errorf("%s's session: amr %v, factor set up %v; want %v, %v", who, sess.AMR, sess.FactorSetUp, want.amr, want.marked)
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

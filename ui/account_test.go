package ui_test

import (
	"html"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mfa/mfatest"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
	"github.com/cognate-idp/cognate/ui/uitest"
)

// A change the account page refuses because another landed between the
// page's read and its write shows the factors as that other change left
// them, not as the request found them.
func TestAccountConflictShowsTheFactorsAsTheyAreNow(t *testing.T) {
	requireOathtool(t)
	ms := newMFAStack(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	s := ms.acme
	ann := s.addUserAt(t, "ann")
	b := newBrowser(t)
	account := signInAtAccount(t, b, s, "ann", ms.enrolTOTP(t, s, ann.Sub))
	add := b.postForm(account, "/account/mfa/add", map[string]string{"kind": "WEB_AUTHN"})
	m := optionsRe.FindStringSubmatch(add.Body)
	if m == nil {
		t.Fatalf("no options on the page:\n%s", add.Body)
	}
	blue := mfatest.NewSecurityKey(t).Register([]byte(html.UnescapeString(m[1])), s.tenantURL)

	// Another tab registers the Green key, the user's first, after the
	// Blue key's request read the session and just before it writes: the
	// user handle the Blue key was made for is not the user's any more.
	other, err := ms.machine.BeginEnrolment(t.Context(), s.slug(), ann.Sub, auth.WebAuthn)
	if err != nil {
		t.Fatal(err)
	}
	green := mfatest.NewSecurityKey(t).Register(other.MFA.WebAuthnOptions, s.tenantURL)
	var otherErr error
	ms.machineStore.BeforeUpdate(func() {
		_, otherErr = ms.machine.FinishEnrolment(t.Context(), s.slug(), ann.Sub, other.Session,
			auth.Answer{Credential: green, FactorName: "Green key"})
	})
	refused := b.postForm(add, "/account/mfa/setup", map[string]string{"name": "Blue key", "credential": string(blue)})
	if otherErr != nil {
		t.Fatalf("the other tab's key: %v", otherErr)
	}
	if refused.Status != http.StatusConflict {
		t.Fatalf("status %d, want 409:\n%s", refused.Status, refused.Body)
	}
	uitest.MustContain(t, refused, "This form was sent already, or adding has ended.", "Phone", "Green key")
	uitest.MustNotContain(t, refused, "Blue key")
}

// When what landed in between ends the session (the first factor, set up
// in another tab, makes a session without it count for nothing), the
// refused change sends the person to sign in, as the page would, and the
// refusal is logged still.
func TestAccountConflictThatEndsTheSessionSignsInAgain(t *testing.T) {
	requireOathtool(t)
	ms := newMFAStack(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	s := ms.acme
	ann := s.addUserAt(t, "ann")
	b := newBrowser(t)
	setup := b.postForm(signInAtAccount(t, b, s, "ann", ""), "/account/mfa/add", map[string]string{"kind": "SOFTWARE_TOKEN_MFA"})
	code := oathtool(t, pageSecret(t, setup), time.Now())

	other, err := ms.machine.BeginEnrolment(t.Context(), s.slug(), ann.Sub, auth.SoftwareTokenMFA)
	if err != nil {
		t.Fatal(err)
	}
	otherCode := oathtool(t, other.MFA.TOTP.Secret, time.Now())
	var otherErr error
	ms.machineStore.BeforeUpdate(func() {
		_, otherErr = ms.machine.FinishEnrolment(t.Context(), s.slug(), ann.Sub, other.Session, auth.Answer{Code: otherCode})
	})
	mark := ms.log.Mark()
	refused := b.postForm(setup, "/account/mfa/setup", map[string]string{"code": code})
	if otherErr != nil {
		t.Fatalf("the other tab's app: %v", otherErr)
	}
	if refused.Status != http.StatusSeeOther || refused.Location != s.tenantURL+"/login?authRequestID=account" {
		t.Fatalf("%d to %q, want 303 to the sign-in:\n%s", refused.Status, refused.Location, refused.Body)
	}
	if lines := strings.Join(ms.log.Since(mark), "\n"); !strings.Contains(lines, "an authenticator app was set up meanwhile") {
		t.Errorf("the refusal is not logged:\n%s", lines)
	}
}

// A first factor set up and proven on the account page counts for the
// session it was set up in: the person stays signed in and sees the page
// say it was added, and the session's amr gains the factor's methods, as
// the second step of its sign-in would have given them, so the next sign-in
// of an application answered from it says so. The session keeps its
// cookie and its sign-in time. Another session of the same user, which
// proved no factor, counts no more: the organization asks this user for a
// second step now.
func TestAccountFirstFactorKeepsTheSession(t *testing.T) {
	requireOathtool(t)
	tests := []struct {
		name string
		// add sets up the factor from the account page and returns the
		// recovery codes page a first factor ends with.
		add func(t *testing.T, b *browser, account page, s *stack) page
	}{
		{"authenticator app", func(t *testing.T, b *browser, account page, s *stack) page {
			setup := b.postForm(account, "/account/mfa/add", map[string]string{"kind": "SOFTWARE_TOKEN_MFA"})
			code := oathtool(t, pageSecret(t, setup), time.Now())
			return b.postForm(setup, "/account/mfa/setup", map[string]string{"code": code, "name": "Phone"})
		}},
		{"security key", func(t *testing.T, b *browser, account page, s *stack) page {
			add := b.postForm(account, "/account/mfa/add", map[string]string{"kind": "WEB_AUTHN"})
			m := optionsRe.FindStringSubmatch(add.Body)
			if m == nil {
				t.Fatalf("no options on the page:\n%s", add.Body)
			}
			key := mfatest.NewSecurityKey(t).Register([]byte(html.UnescapeString(m[1])), s.tenantURL)
			return b.postForm(add, "/account/mfa/setup", map[string]string{"name": "Blue key", "credential": string(key)})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := newMFAStack(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
			s := ms.acme
			s.addUserAt(t, "kate")
			elsewhere := newBrowser(t)
			signInAtAccount(t, elsewhere, s, "kate", "")
			b := newBrowser(t)
			account := signInAtAccount(t, b, s, "kate", "")
			token := sessionToken(t, b, s)
			before := sessionOf(t, s, token)

			codes, next := recoveryCodes(t, tt.add(t, b, account, s))
			if len(codes) != 10 || next != s.tenantURL+"/account?done=added" {
				t.Fatalf("the recovery codes lead to %s", next)
			}
			added := b.Get(next)
			if added.Status != http.StatusOK {
				t.Fatalf("after adding the first factor: %d to %q, want the account page:\n%s", added.Status, added.Location, added.Body)
			}
			uitest.MustContain(t, added, "Added.", "Signed in as kate")

			if got := sessionToken(t, b, s); got != token {
				t.Error("the session cookie changed")
			}
			// The session counts the factor for the policy, but its amr
			// stays what its sign-in proved: whoever held the cookie could
			// have set the factor up.
			after := sessionOf(t, s, token)
			if !after.FactorSetUp || !slices.Equal(after.AMR, before.AMR) {
				t.Errorf("session: factor set up %v, amr %v; want true, %v as before", after.FactorSetUp, after.AMR, before.AMR)
			}
			if !after.AuthTime.Equal(before.AuthTime) || !after.ExpiresAt.Equal(before.ExpiresAt) {
				t.Errorf("signed in at %v, expiring %v; want %v, %v as before", after.AuthTime, after.ExpiresAt, before.AuthTime, before.ExpiresAt)
			}
			// An application is not answered from the session: its
			// sign-in proved no second step, and the factor could have
			// been set up by whoever held the cookie. Its sign-in asks for
			// the password (and then the new factor), as the admin
			// console's does.
			p := b.Get(s.rpURL + "/start")
			for p.Status == http.StatusFound || p.Status == http.StatusSeeOther {
				p = b.Follow(p)
			}
			uitest.MustContain(t, p, "Signing in now needs a second step after your password. Sign in again to continue.")
			if !strings.Contains(p.Body, `name="password"`) {
				t.Errorf("an application's sign-in after the factor: want the password form, got:\n%s", p.Body)
			}

			// The session of another browser proved no factor: the
			// sign-in it is sent to says why, without blaming the
			// organization, which changed nothing.
			p = elsewhere.Get(s.tenantURL + "/account")
			if p.Status != http.StatusSeeOther || p.Location != s.tenantURL+"/login?authRequestID=account" {
				t.Fatalf("another session of kate: %d to %q, want the sign-in", p.Status, p.Location)
			}
			uitest.MustContain(t, elsewhere.Follow(p), "Signing in now needs a second step after your password. Sign in again to continue.")
		})
	}
}

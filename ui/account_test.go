package ui_test

import (
	"html"
	"net/http"
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

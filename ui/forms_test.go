package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/ui/uitest"
)

// TestSetupKeepsTheTypedName: when the answer that sets up a factor is
// refused (a wrong code, a key the server does not accept), the page comes
// back with the name the person typed for the factor still in its field.
func TestSetupKeepsTheTypedName(t *testing.T) {
	ms := newMFAStack(t, tenant.MFAPolicy{Mode: tenant.MFARequired})
	s := ms.acme

	// setupAtSignIn signs a user without a factor in, who is then asked to
	// set one up, and returns the set-up page of kind.
	setupAtSignIn := func(t *testing.T, b *browser, user, kind string) page {
		s.addUserAt(t, user)
		choose := b.submit(s.startLogin(t, b), map[string]string{"login": user, "password": goodPassword})
		return b.submit(choose, map[string]string{"kind": kind})
	}
	// setupAtAccount adds a factor of kind from the account page.
	setupAtAccount := func(t *testing.T, b *browser, user, kind string) page {
		b.signedInAt(s, s.addUserAt(t, user).Sub, time.Now())
		account := b.Get(s.tenantURL + "/account")
		return b.postForm(account, "/account/mfa/add", map[string]string{"kind": kind})
	}

	tests := []struct {
		name   string
		setup  func(t *testing.T, b *browser, user, kind string) page
		user   string
		kind   string
		answer map[string]string
		want   string
	}{
		{"app at sign-in", setupAtSignIn, "ann", "SOFTWARE_TOKEN_MFA", map[string]string{"code": "000000"}, "That code is not right."},
		{"app at account", setupAtAccount, "bob", "SOFTWARE_TOKEN_MFA", map[string]string{"code": "000000"}, "That code is not right."},
		{"key at account", setupAtAccount, "cy", "WEB_AUTHN", map[string]string{"credential": "{}"}, "was not accepted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t)
			setup := tt.setup(t, b, tt.user, tt.kind)
			if setup.Status != http.StatusOK {
				t.Fatalf("set-up page: status %d:\n%s", setup.Status, setup.Body)
			}
			tt.answer["name"] = "Work <phone>"
			refused := b.submit(setup, tt.answer)
			if refused.Status != http.StatusUnprocessableEntity {
				t.Fatalf("refused answer: status %d, want 422:\n%s", refused.Status, refused.Body)
			}
			uitest.MustContain(t, refused, tt.want, `id="factor-name" name="name" type="text" value="Work &lt;phone&gt;"`)
		})
	}
}

// TestBrowserEnterRegistersTheKey: Enter in the name field of a key's
// set-up starts the browser's registration, as the button does, instead of
// posting the form before any key has answered (which the server can only
// refuse).
func TestBrowserEnterRegistersTheKey(t *testing.T) {
	browser := chrome(t)
	ms := newMFAStack(t, tenant.MFAPolicy{Mode: tenant.MFARequired, Factors: []string{tenant.FactorWebAuthn}})
	ann := ms.acme.addUserAt(t, "ann")
	watchConsole(t, browser)
	ctx, cancel := context.WithTimeout(browser, 30*time.Second)
	defer cancel()
	addAuthenticator(t, ctx)

	must(t, "sign in and name the key", chromedp.Do(ctx, passwordStep(ms.acme, "ann"),
		chromedp.WaitVisible(chromedp.ID("webauthn-start")),
		chromedp.SendKeys(chromedp.ID("factor-name"), "Laptop"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("#recovery-codes, #form-error"))))
	if alert, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`(document.getElementById("form-error") || {}).textContent || ""`)); err != nil || alert != "" {
		t.Fatalf("after Enter in the name field: %q, %v", alert, err)
	}
	stored, err := ms.acme.svc.User(t.Context(), "acme", ann.Sub)
	if err != nil || len(stored.MFA.WebAuthn) != 1 || stored.MFA.WebAuthn[0].Name != "Laptop" {
		t.Errorf("ann's stored keys: %+v, %v", stored.MFA.WebAuthn, err)
	}
}

// TestAccountRenameNeedsAName: a blank new name for a factor is refused
// with a sentence that says a name is needed, not that it is too long.
func TestAccountRenameNeedsAName(t *testing.T) {
	ms := newMFAStack(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	s := ms.acme
	ann := s.addUserAt(t, "ann")
	ms.enrolTOTP(t, s, ann.Sub)
	b := newBrowser(t)
	b.signedInAt(s, ann.Sub, time.Now())
	account := b.Get(s.tenantURL + "/account")

	// A refused name stays in the field, as typed but made printable,
	// with the field open.
	tests := []struct {
		name, newName string
		status        int
		want          string
		field         string
	}{
		{"blank", "   ", http.StatusUnprocessableEntity, "Type a name of 1 to 64 characters, without control characters.", ""},
		{"too long", strings.Repeat("é", 70), http.StatusUnprocessableEntity, "Type a name of 1 to 64 characters, without control characters.",
			strings.Repeat("é", 70)},
		{"control characters", "Work\x1b[31mphone\x00", http.StatusUnprocessableEntity, "without control characters", "Work[31mphone"},
		{"good", "Work phone", http.StatusSeeOther, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.postForm(account, "/account/mfa/rename", map[string]string{"factor": tenant.TOTPFactorID, "name": tt.newName})
			if p.Status != tt.status {
				t.Fatalf("status %d, want %d:\n%s", p.Status, tt.status, p.Body)
			}
			if tt.want != "" {
				uitest.MustContain(t, p, tt.want, "<details open>",
					fmt.Sprintf(`name="name" type="text" maxlength="64" value="%s" required`, tt.field))
				uitest.MustNotContain(t, p, "\x1b", "\x00")
			}
		})
	}
}

// TestRecoveryCodesLeft: the account page counts the unused recovery
// codes in a sentence that agrees with the number, in both languages.
func TestRecoveryCodesLeft(t *testing.T) {
	ms := newMFAStack(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	s := ms.acme
	ann := s.addUserAt(t, "ann")
	ms.enrolTOTP(t, s, ann.Sub)

	// keep leaves ann n unused codes, as after using the others.
	keep := func(t *testing.T, n int) {
		t.Helper()
		err := s.store.Update(t.Context(), func(tx tenant.Tx) error {
			u, err := tenant.GetUser(tx, "acme", ann.Sub)
			if err != nil {
				return err
			}
			for i := range u.MFA.RecoveryCodes {
				if i >= n {
					u.MFA.RecoveryCodes[i] = ""
				}
			}
			return tenant.UpdateUser(tx, "acme", u)
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		left     int
		language string
		want     string
	}{
		{2, "en", "You have 2 unused recovery codes."},
		{2, "nl", "U hebt 2 ongebruikte herstelcodes."},
		{1, "en", "You have 1 unused recovery code."},
		{1, "nl", "U hebt 1 ongebruikte herstelcode."},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.left, tt.language), func(t *testing.T) {
			keep(t, tt.left)
			b := newBrowser(t)
			b.Header.Set("Accept-Language", tt.language)
			b.signedInAt(s, ann.Sub, time.Now())
			uitest.MustContain(t, b.Get(s.tenantURL+"/account"), tt.want)
		})
	}
}

package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/ui/uitest"
)

// The passkey tests drive headless Chromium with the DevTools virtual
// authenticator: a CTAP2 platform authenticator that stores discoverable
// credentials and verifies the user. Chromium treats http://*.localhost as
// a secure context, so WebAuthn works there without TLS; each tenant's RP ID
// is its own host (acme.localhost, beta.localhost).

// addAuthenticator gives the tab of ctx a virtual authenticator.
func addAuthenticator(t *testing.T, ctx context.Context) webauthn.AuthenticatorID {
	t.Helper()
	id, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (webauthn.AuthenticatorID, error) {
		if _, err := cdp.Call(ctx, tg, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return "", err
		}
		res, err := cdp.Call(ctx, tg, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol:                    webauthn.AuthenticatorProtocolCtap2,
				Ctap2version:                webauthn.Ctap2versionCtap21,
				Transport:                   webauthn.AuthenticatorTransportInternal,
				HasResidentKey:              true,
				HasUserVerification:         true,
				IsUserVerified:              true,
				AutomaticPresenceSimulation: true,
			}})
		return res.AuthenticatorID, err
	})
	must(t, "add a virtual authenticator", err)
	return id
}

// credentialsFor lists the RP IDs of the authenticator's credentials.
func credentialRPIDs(t *testing.T, ctx context.Context, id webauthn.AuthenticatorID) []string {
	t.Helper()
	creds, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (webauthn.GetCredentialsResult, error) {
		return cdp.Call(ctx, tg, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
	})
	must(t, "list the authenticator's credentials", err)
	var ids []string
	for _, c := range creds.Credentials {
		ids = append(ids, c.RpID)
	}
	slices.Sort(ids)
	return ids
}

// forgetSessions clears the browser's cookies: the next sign-in starts from
// nothing, as on another day.
var forgetSessions = chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
	_, err := cdp.Call(ctx, tg, network.ClearBrowserCookies, cdp.Empty{})
	return err
})

// passwordStep opens the relying party of s, which sends the browser to the
// tenant's login page, and signs in with a password.
func passwordStep(s *stack, login string) chromedp.Action[chromedp.Void] {
	username := chromedp.CSS(`input[autocomplete="username"]`)
	return chromedp.Steps(
		chromedp.Navigate(s.rpURL+"/start"),
		chromedp.WaitVisible(username),
		chromedp.SendKeys(username, login),
		chromedp.SendKeys(chromedp.CSS(`input[autocomplete="current-password"]`), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
	)
}

// passkeyStep opens the relying party of s and signs in with a passkey: the
// page asks the authenticator at once.
func passkeyStep(s *stack) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(s.rpURL+"/start"),
		chromedp.WaitVisible(chromedp.ID("passkey-sign-in")),
		chromedp.Click(chromedp.ID("passkey-sign-in")),
	)
}

// registerStep answers the set-up page that registers a passkey, then
// leaves the recovery codes page for the relying party.
func registerStep(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.WaitVisible(chromedp.ID("webauthn-start")),
		chromedp.SendKeys(chromedp.ID("factor-name"), name),
		chromedp.Click(chromedp.ID("webauthn-start")),
		chromedp.WaitVisible(chromedp.ID("recovery-codes")),
		chromedp.Click(chromedp.ID("recovery-continue")),
		chromedp.WaitVisible(chromedp.ID("claims")),
	)
}

func TestBrowserPasskeys(t *testing.T) {
	browser := chrome(t)
	ms := newMFAStack(t, tenant.MFAPolicy{Mode: tenant.MFARequired, Factors: []string{tenant.FactorWebAuthn}, Passwordless: true})
	ann := ms.acme.addUserAt(t, "ann")
	bob := ms.beta.addUserAt(t, "bob")
	watchConsole(t, browser)
	ctx, cancel := context.WithTimeout(browser, 40*time.Second)
	defer cancel()
	authenticator := addAuthenticator(t, ctx)

	claimsOf := func(what, wantSub string, wantAMR ...string) {
		t.Helper()
		must(t, what, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("claims"))))
		claims := browserClaims(t, ctx)
		if claims["sub"] != wantSub || !slices.Equal(amrOf(claims), wantAMR) {
			t.Errorf("%s: sub %v amr %v, want %s %v", what, claims["sub"], claims["amr"], wantSub, wantAMR)
		}
	}

	// acme requires a second factor and counts only WebAuthn: after the
	// password, ann registers a passkey at once, sees her recovery codes,
	// and reaches the relying party.
	must(t, "acme: password", chromedp.Do(ctx, passwordStep(ms.acme, "ann")))
	must(t, "acme: register a passkey", chromedp.Do(ctx, registerStep("Laptop")))
	claimsOf("acme: enrolment", ann.Sub, "pwd", "hwk", "user", "mfa")
	if got := credentialRPIDs(t, ctx, authenticator); !slices.Equal(got, []string{"acme.localhost"}) {
		t.Fatalf("authenticator holds credentials for %v, want acme.localhost", got)
	}

	// The passkey as second factor: the page asks the authenticator itself.
	must(t, "acme: second factor", chromedp.Do(ctx, forgetSessions, passwordStep(ms.acme, "ann")))
	claimsOf("acme: second factor", ann.Sub, "pwd", "hwk", "user", "mfa")

	// The passkey alone: possession and user verification.
	must(t, "acme: passwordless", chromedp.Do(ctx, forgetSessions, passkeyStep(ms.acme)))
	claimsOf("acme: passwordless", ann.Sub, "hwk", "user", "mfa")

	// At beta the browser finds no passkey: the RP ID differs.
	status := chromedp.ID("webauthn-status")
	must(t, "beta: acme's passkey is not offered", chromedp.Do(ctx, forgetSessions, passkeyStep(ms.beta), chromedp.WaitVisible(status)))
	text, err := chromedp.Run(ctx, chromedp.Text(status))
	must(t, "read the status", err)
	if !strings.Contains(text, "cancelled or took too long") {
		t.Errorf("status at beta: %q", text)
	}
	// A page could still get acme's passkey to sign beta's challenge, from
	// acme's origin. Beta's server refuses that answer.
	refusedAtBeta(t, ctx, ms)

	// beta's own passkey for bob: registered, then used both ways. The
	// authenticator now holds one credential per tenant.
	must(t, "beta: password", chromedp.Do(ctx, forgetSessions, passwordStep(ms.beta, "bob")))
	must(t, "beta: register a passkey", chromedp.Do(ctx, registerStep("Phone")))
	claimsOf("beta: enrolment", bob.Sub, "pwd", "hwk", "user", "mfa")
	if got := credentialRPIDs(t, ctx, authenticator); !slices.Equal(got, []string{"acme.localhost", "beta.localhost"}) {
		t.Fatalf("authenticator holds credentials for %v", got)
	}
	must(t, "beta: second factor", chromedp.Do(ctx, forgetSessions, passwordStep(ms.beta, "bob")))
	claimsOf("beta: second factor", bob.Sub, "pwd", "hwk", "user", "mfa")
	must(t, "beta: passwordless", chromedp.Do(ctx, forgetSessions, passkeyStep(ms.beta)))
	claimsOf("beta: passwordless", bob.Sub, "hwk", "user", "mfa")
	// And acme still signs ann in, not bob.
	must(t, "acme: passwordless again", chromedp.Do(ctx, forgetSessions, passkeyStep(ms.acme)))
	claimsOf("acme: passwordless again", ann.Sub, "hwk", "user", "mfa")

	stored, err := ms.acme.svc.User(t.Context(), "acme", ann.Sub)
	if err != nil || len(stored.MFA.WebAuthn) != 1 || stored.MFA.WebAuthn[0].Name != "Laptop" || stored.MFA.WebAuthn[0].RPID != "acme.localhost" {
		t.Errorf("ann's stored factor: %+v, %v", stored.MFA.WebAuthn, err)
	}
}

// refusedAtBeta is the server's side of the cross-tenant check. The tab is
// on beta's passkey page, whose prompt found nothing. From acme's origin,
// where the browser lets acme's passkey sign, it signs beta's challenge;
// the answer is posted to beta with beta's flow, and refused: no user at
// beta has the passkey's user handle, and it is signed for acme's RP ID by
// acme's origin.
func refusedAtBeta(t *testing.T, ctx context.Context, ms *mfaStack) {
	t.Helper()
	type form struct{ CSRF, AuthRequestID, Session, Options string }
	f, err := chromedp.Run(ctx, chromedp.Evaluate[form](`(() => {
		const v = name => document.querySelector('#webauthn-form input[name="' + name + '"]').value;
		return {CSRF: v("csrf_token"), AuthRequestID: v("authRequestID"), Session: v("session"),
			Options: document.getElementById("webauthn").getAttribute("data-options")};
	})()`))
	must(t, "read beta's passkey form", err)
	var options struct {
		Challenge string `json:"challenge"`
	}
	must(t, "parse beta's options", json.Unmarshal([]byte(f.Options), &options))

	must(t, "open acme", chromedp.Do(ctx, chromedp.Navigate(ms.acme.tenantURL+"/")))
	assertion, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(async () => {
		const dec = s => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), c => c.charCodeAt(0));
		const enc = b => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
		const cred = await navigator.credentials.get({publicKey: {challenge: dec(%q), rpId: "acme.localhost", userVerification: "required"}});
		const r = cred.response;
		return JSON.stringify({id: cred.id, rawId: enc(cred.rawId), type: cred.type, clientExtensionResults: {},
			response: {clientDataJSON: enc(r.clientDataJSON), authenticatorData: enc(r.authenticatorData),
				signature: enc(r.signature), userHandle: enc(r.userHandle)}});
	})()`, options.Challenge), chromedp.EvalAwaitPromise))
	must(t, "sign beta's challenge with acme's passkey", err)

	post, err := json.Marshal(map[string]string{"csrf_token": f.CSRF, "authRequestID": f.AuthRequestID, "session": f.Session, "credential": assertion})
	must(t, "encode the form", err)
	must(t, "post it to beta", chromedp.Do(ctx,
		chromedp.Navigate(ms.beta.tenantURL+"/"),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
			const form = document.createElement("form");
			form.method = "post";
			form.action = "/login/passkey/finish";
			for (const [name, value] of Object.entries(%s)) {
				const input = document.createElement("input");
				input.type = "hidden";
				input.name = name;
				input.value = value;
				form.appendChild(input);
			}
			document.body.appendChild(form);
			form.submit();
		})()`, post)),
	))
	// Read once beta's answer has loaded: an alert on the page the form
	// left may be seen first, and is gone by the time it is read.
	answered := `location.pathname === "/login/passkey/finish" && document.querySelector('[role="alert"]') !== null`
	must(t, "beta's answer", uitest.WaitUntil(ctx, answered))
	alert, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[role="alert"]').textContent`))
	must(t, "read the refusal", err)
	if !strings.Contains(alert, "Your passkey was not accepted.") {
		t.Errorf("beta's answer to acme's passkey: %q", alert)
	}
}

// Setting up an authenticator app at sign-in, in Chromium: the key's Copy
// button puts the key on the clipboard without the spaces that group it
// for reading, the code an app makes from that key confirms it, and the
// recovery codes' Copy button puts the ten codes there one a line. Each
// copy is said in the status region after its button.
func TestBrowserTOTPSetupCopies(t *testing.T) {
	requireOathtool(t)
	browser := chrome(t)
	ms := newMFAStack(t, tenant.MFAPolicy{Mode: tenant.MFARequired, Factors: []string{tenant.FactorTOTP}})
	ann := ms.acme.addUserAt(t, "ann")
	watchConsole(t, browser)
	ctx, cancel := context.WithTimeout(browser, 40*time.Second)
	defer cancel()
	must(t, "allow the clipboard", uitest.AllowClipboard(ctx))

	must(t, "password", chromedp.Do(ctx, passwordStep(ms.acme, "ann"), chromedp.WaitVisible(chromedp.ID("totp-secret"))))
	shownKey, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("totp-secret")))
	must(t, "read the key", err)
	key := copyWithButton(t, ctx, "totp-secret")
	if want := strings.ReplaceAll(shownKey, " ", ""); key != want || len(key) < 16 {
		t.Fatalf("the Copy button copied %q; the page shows %q", key, shownKey)
	}

	must(t, "confirm with the app's code", chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("code"), oathtool(t, key, time.Now())),
		chromedp.Click(chromedp.CSS(`form[action$="/setup"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("recovery-codes")),
	))
	shownCodes, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#recovery-codes li")).map(li => li.textContent.trim())`))
	must(t, "read the recovery codes", err)
	if codes := copyWithButton(t, ctx, "recovery-codes"); len(shownCodes) != 10 || codes != strings.Join(shownCodes, "\n") {
		t.Fatalf("the Copy button copied %q; the page shows %q", codes, shownCodes)
	}

	must(t, "continue to the relying party", chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("recovery-continue")),
		chromedp.WaitVisible(chromedp.ID("claims")),
	))
	if claims := browserClaims(t, ctx); claims["sub"] != ann.Sub {
		t.Errorf("signed in as %v, want ann (%s)", claims["sub"], ann.Sub)
	}
}

// copyWithButton presses the Copy button of the element with id target,
// waits for the status region to say it was copied, and returns what the
// clipboard then holds.
func copyWithButton(t *testing.T, ctx context.Context, target string) string {
	t.Helper()
	button := fmt.Sprintf(`document.querySelector('button[data-copy=%q]')`, target)
	must(t, "copy "+target, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[data-copy=%q]`, target)))))
	must(t, "copied "+target, uitest.WaitUntil(ctx, fmt.Sprintf(
		`(b => b.parentNode.querySelector('[role="status"]').textContent === b.getAttribute("data-copied"))(%s)`, button)))
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	must(t, "read the clipboard", err)
	return text
}

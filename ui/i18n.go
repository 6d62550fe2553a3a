package ui

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/cognate-idp/cognate/tenant/password"
)

// lang is a language the pages speak.
type lang string

const (
	langEN lang = "en"
	langNL lang = "nl"
)

// chooseLang picks the language of a page: the organization's own
// (Settings.Locale), unless the browser's first choice is Dutch. Only Dutch
// overrides, by design: an organization that chose Dutch keeps it for the
// many Dutch people whose browsers happen to ask for English first. The
// pages of an application's sign-in speak what it asked for in ui_locales
// before either (requestedLang). asked reports that the browser chose the
// language, not the organization.
func chooseLang(r *http.Request, tenantLocale string) (l lang, asked bool) {
	if browserPrefers(r.Header.Get("Accept-Language")) == langNL {
		return langNL, true
	}
	if tenantLocale == string(langNL) {
		return langNL, false
	}
	return langEN, false
}

// requestedLang returns the first of an authorization request's
// ui_locales (OpenID Connect Core §3.1.2.1: BCP 47 tags, in the order of
// preference) that the pages speak, if any.
func requestedLang(uiLocales []string) (lang, bool) {
	for _, tag := range uiLocales {
		primary, _, _ := strings.Cut(tag, "-")
		if l := lang(strings.ToLower(primary)); l == langEN || l == langNL {
			return l, true
		}
	}
	return "", false
}

// browserPrefers returns the primary language of the Accept-Language entry
// with the highest weight (the first of equals), or "" when there is none.
// An entry weighted 0 is one the browser does not accept (RFC 9110
// §12.4.2), so it is never chosen.
func browserPrefers(header string) lang {
	best, bestQ := "", -1.0
	for part := range strings.SplitSeq(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		if tag == "" || q <= 0 || q <= bestQ {
			continue
		}
		primary, _, _ := strings.Cut(tag, "-")
		best, bestQ = strings.ToLower(primary), q
	}
	return lang(best)
}

// msgKey names a sentence in the catalogue. Templates name keys as string
// literals ({{.T "login.submit"}}); New checks those against the catalogue,
// and a test checks every msgKey constant below.
type msgKey string

// Keys used from Go code. Keys used only by templates are not repeated here.
const (
	msgErrorHeading400    msgKey = "error.heading.400"
	msgErrorHeading403    msgKey = "error.heading.403"
	msgErrorHeading404    msgKey = "error.heading.404"
	msgErrorHeading405    msgKey = "error.heading.405"
	msgErrorHeading429    msgKey = "error.heading.429"
	msgErrorHeading500    msgKey = "error.heading.500"
	msgInternal           msgKey = "error.internal"
	msgPageNotFound       msgKey = "error.notFound"
	msgTooLarge           msgKey = "error.tooLarge"
	msgBadForm            msgKey = "error.badForm"
	msgBackHome           msgKey = "error.backHome"
	msgNoOrgHeading       msgKey = "noOrg.heading"
	msgNoOrg              msgKey = "noOrg.text"
	msgOrgUnavailableHead msgKey = "org.unavailable.heading"
	msgOrgUnavailable     msgKey = "org.unavailable"
	msgNoOrgLink          msgKey = "noOrg.link"
	msgLoginExpiredHead   msgKey = "login.expired.heading"
	msgLoginExpired       msgKey = "login.expired"
	msgLoginExpiredLink   msgKey = "login.expired.link"
	msgNewPwSavedHead     msgKey = "newpw.saved.heading"
	msgNewPwSaved         msgKey = "newpw.saved"
	msgNewPwSavedLink     msgKey = "newpw.saved.link"
	msgLinkRefusedHead    msgKey = "login.refused.heading"
	msgLinkRefused        msgKey = "login.refused"
	msgLogoutRefusedHead  msgKey = "logout.refused.heading"
	msgLogoutRefused      msgKey = "logout.refused"
	msgLogoutFailed       msgKey = "logout.failed"
	msgLoginMissing       msgKey = "login.missing"
	msgLoginIncorrect     msgKey = "login.incorrect"
	msgLoginLocked        msgKey = "login.locked"
	msgLoginTempExpired   msgKey = "login.tempExpired"
	msgLoginUnavailable   msgKey = "login.unavailable"
	msgStepUnavailableH   msgKey = "login.stepUnavailable.heading"
	msgStepUnavailable    msgKey = "login.stepUnavailable"
	msgNewPwMissing       msgKey = "newpw.missing"
	msgNewPwMismatch      msgKey = "newpw.mismatch"
	msgNewPwPolicyFailed  msgKey = "newpw.policyFailed"
	msgNewPwUnchanged     msgKey = "newpw.unchanged"
	msgSignInEndedHead    msgKey = "signin.ended.heading"
	msgSignInEnded        msgKey = "signin.ended"
	msgStepMismatch       msgKey = "signin.mismatch"
	msgSignInExpired      msgKey = "signin.expired"
	msgSignInExpiredSetup msgKey = "signin.expired.setup"
	msgStepReloadHead     msgKey = "signin.reload.heading"
	msgStepReload         msgKey = "signin.reload"
	msgMethodNotAllowed   msgKey = "error.method"
	msgNewPwStartAgain    msgKey = "newpw.expired.link"
	msgRuleTooShort       msgKey = "rule.too_short"
	msgRuleTooLong        msgKey = "rule.too_long"
	msgRuleUppercase      msgKey = "rule.missing_uppercase"
	msgRuleLowercase      msgKey = "rule.missing_lowercase"
	msgRuleNumber         msgKey = "rule.missing_number"
	msgRuleSymbol         msgKey = "rule.missing_symbol"
	msgRuleWhitespace     msgKey = "rule.edge_whitespace"
	msgRuleCharacters     msgKey = "rule.characters"
	msgRuleReused         msgKey = "rule.reused"
	msgFindEmpty          msgKey = "find.empty"
	msgFindNotFound       msgKey = "find.notFound"
	msgFindAmbiguous      msgKey = "find.ambiguous"
	msgDevMailGone        msgKey = "devmail.gone"
	msgDevMailUnavailable msgKey = "devmail.unavailable"
	msgDevMailBack        msgKey = "devmail.back"
)

// catalogue holds every sentence a person reads, per language. New checks
// that both languages hold the same keys. It is read-only after start-up.
var catalogue = map[lang]map[msgKey]string{
	langEN: {
		"error.heading.400":             "We cannot continue",
		"error.heading.403":             "This request was refused",
		"error.heading.404":             "Page not found",
		"error.heading.405":             "Not possible here",
		"error.heading.429":             "Please wait a moment",
		"error.heading.500":             "Something went wrong",
		"error.internal":                "Something went wrong on our side. Try again in a moment.",
		"error.notFound":                "This page does not exist.",
		"error.csrf.expired":            "This form has expired. Go back, reload the page and try again.",
		"error.csrf.crossSite":          "This form was sent from another site, so it was refused. Open this site's page yourself and try again.",
		"error.tooLarge":                "The form you sent is too large.",
		"error.badForm":                 "The form could not be read. Reload the page and try again.",
		"error.backHome":                "Go to the start page",
		"noOrg.heading":                 "There is no organization at this address",
		"noOrg.text":                    "Check the address you typed, or look up your organization by its name.",
		"org.unavailable.heading":       "Temporarily unavailable",
		"org.unavailable":               "Signing in to this organization is not possible right now. Try again in a few minutes; if it stays this way, tell your administrator.",
		"noOrg.link":                    "Find your organization",
		"login.expired.heading":         "This sign-in link has expired",
		"login.expired":                 "This sign-in link has expired or has been used already. Go back to the application and start again, or sign in to your organization here.",
		"login.expired.link":            "Sign in here",
		"login.refused.heading":         "This sign-in link does not work here",
		"login.refused":                 "The link is incomplete, or the application that sent you here is not set up to sign in at this organization. Go back to the application and start again; if it happens again, tell the application's administrator.",
		"logout.refused.heading":        "This sign-out link does not work here",
		"logout.failed":                 "Something went wrong on our side, so you have not been signed out. Try again in a moment.",
		"logout.refused":                "The application that sent you here is not set up to sign out at this organization, so you have not been signed out. Go back to the application and sign out again; if it happens again, tell the application's administrator.",
		"login.title":                   "Sign in",
		"login.heading":                 "Sign in to %s",
		"login.toContinue":              "to continue to %s",
		"login.username":                "Username or email",
		"login.password":                "Password",
		"login.submit":                  "Sign in",
		"login.missing":                 "Enter your username and your password.",
		"login.incorrect":               "Incorrect username or password.",
		"login.locked":                  "Too many failed attempts. Try again in a few minutes.",
		"login.tempExpired":             "Your temporary password has expired. Ask your administrator to send a new invitation.",
		"login.unavailable":             "Signing in is temporarily unavailable. Try again in a few minutes.",
		"login.stepUnavailable.heading": "This sign-in cannot be completed here",
		"login.stepUnavailable":         "Your account needs a sign-in step that cannot be completed on this page yet. Contact your administrator.",
		"field.showPassword":            "Show password",
		"field.hidePassword":            "Hide password",
		"newpw.title":                   "Choose a new password",
		"newpw.lead":                    "Your temporary password is correct. Choose your own password to finish signing in.",
		"newpw.account":                 "Account: %s",
		"newpw.new":                     "New password",
		"newpw.confirm":                 "Repeat the new password",
		"newpw.submit":                  "Set password and continue",
		"newpw.policy":                  "Requirements for your password:",
		"newpw.missing":                 "Enter your new password twice.",
		"newpw.mismatch":                "The two passwords are not the same.",
		"newpw.policyFailed":            "Your new password does not meet these requirements:",
		"newpw.unchanged":               "Choose a password that differs from your temporary password.",
		"newpw.saved.heading":           "Your new password is saved",
		"newpw.saved":                   "This form was sent already, and your new password was saved then. You are signed in: go back to the application, or continue here.",
		"newpw.saved.link":              "Continue",
		"signin.ended.heading":          "This sign-in has ended",
		"signin.ended":                  "This step was done already, or this sign-in has ended. Start signing in again.",
		"signin.expired":                "Each step of signing in must be finished within %d minutes. This one took longer, or it was done already (in another tab, or by sending the form twice). Start signing in again.",
		"signin.expired.setup":          "Each step of signing in must be finished within %d minutes. This one took longer, or it was done already (in another tab, or by sending the form twice). Start signing in again. If you are asked to set up your second step again, first remove what you added this time from your authenticator app or device: it will not work.",
		"signin.timeLimit":              "You have %d minutes to finish this step.",
		"signin.mismatch":               "This request does not fit this step of the sign-in. Start signing in again.",
		"signin.reload.heading":         "This step of the sign-in cannot be opened on its own",
		"signin.reload":                 "This address answers a form of the sign-in and cannot be opened again. Go back to the application and start signing in again.",
		"error.method":                  "This page cannot be used this way.",
		"newpw.expired.link":            "Start again",
		"rule.too_short":                "at least %d characters",
		"rule.too_long":                 "at most %d characters",
		"rule.missing_uppercase":        "an uppercase letter",
		"rule.missing_lowercase":        "a lowercase letter",
		"rule.missing_number":           "a number",
		"rule.missing_symbol":           "a symbol, such as ! ? # or %",
		"rule.edge_whitespace":          "no space at the start or the end",
		"rule.characters":               "only characters a keyboard types: no control characters",
		"rule.reused":                   "not one of your recent passwords",
		"reset.title":                   "Reset your password",
		"reset.text":                    "Your password must be reset before you can sign in. Request a reset code to choose a new password.",
		"reset.link":                    "Reset my password",
		"loggedOut.title":               "You are signed out",
		"loggedOut.text":                "You can close this window.",
		"loggedOut.signIn":              "Sign in again",
		"logout.confirm.title":          "Sign out of %s?",
		"logout.confirm.signedInAs":     "You are signed in as %s.",
		"logout.confirm.text":           "After signing out, applications that send you here ask you to sign in again.",
		"logout.confirm.submit":         "Sign out",
		"logout.confirm.cancel":         "Stay signed in",
		"home.text":                     "To use an application, open it: it brings you here to sign in. You can also sign in here directly, for instance the first time, with the temporary password from your invitation.",
		"home.dev.heading":              "Development mode",
		"home.dev.text":                 "Try a sign-in with the example application. Start it with:",
		"home.dev.open":                 "Open the example application",
		"home.dev.noClient":             "To try the example application, register a client with the redirect URI %s.",
		"find.title":                    "Find your organization",
		"find.lead":                     "You sign in at your organization's own address. Type its name and we will take you there, or type your email address and we will email you the links.",
		"find.label":                    "Organization name or email address",
		"find.hint":                     "The organization's name, the short name at the start of your sign-in address, or your email address.",
		"find.submit":                   "Continue",
		"find.empty":                    "Type the name of your organization or your email address.",
		"find.notFound":                 "We could not find an organization called “%s”. Check the spelling or ask your administrator for your organization's sign-in address.",
		"find.ambiguous":                "More than one organization is called “%s”, so we cannot tell which one is yours. Type your organization's short name instead: the start of its sign-in address, before the first dot. Your administrator can tell you what it is.",
		"find.devMail":                  "Development mailbox",
		"devmail.title":                 "Development mailbox",
		"devmail.lead":                  "Mail that Cognate would have sent. In development mode nothing leaves this machine; the newest mail is at the top.",
		"devmail.empty":                 "No mail yet.",
		"devmail.to":                    "To",
		"devmail.subject":               "Subject",
		"devmail.noSubject":             "(no subject)",
		"devmail.text":                  "Text",
		"devmail.html":                  "HTML",
		"devmail.htmlFrame":             "The HTML part of the mail",
		"devmail.back":                  "All mail",
		"devmail.gone":                  "This mail is no longer kept.",
		"devmail.unavailable":           "Mail goes to a mail server, so there is no development mailbox to show.",
		"mfa.code.title":                "Two-step verification",
		"mfa.code.lead":                 "Enter the 6-digit code your authenticator app shows for this account.",
		"mfa.code.label":                "Code",
		"mfa.code.submit":               "Verify",
		"mfa.code.wrong":                "That code is not right. Check the app and try again.",
		"mfa.code.reused":               "That code was used already. Wait for the next code in your app.",
		"mfa.code.malformed":            "Enter the 6 digits your app shows.",
		"mfa.code.unusable":             "Your authenticator app cannot be used at the moment. Use a recovery code or another way, and ask your administrator to reset your two-step verification.",
		"mfa.recovery.summary":          "Use a recovery code instead",
		"mfa.recovery.label":            "Recovery code",
		"mfa.recovery.hint":             "One of the codes you saved when you set up two-step verification. Each code works once.",
		"mfa.recovery.submit":           "Use recovery code",
		"mfa.recovery.wrong":            "That recovery code is not right, or it was used already.",
		"mfa.other":                     "Or verify another way:",
		"mfa.kind.totp":                 "Authenticator app",
		"mfa.kind.webauthn":             "Security key or passkey",
		"mfa.webauthn.title":            "Use your security key or passkey",
		"mfa.webauthn.lead":             "Confirm with your security key, or with the passkey on this device (fingerprint, face or PIN).",
		"mfa.webauthn.start":            "Use security key or passkey",
		"mfa.webauthn.cancelled":        "The request was cancelled or took too long. Try again.",
		"mfa.webauthn.failed":           "Your browser could not use a security key or passkey here. Try again, or verify another way.",
		"mfa.webauthn.unsupported":      "This browser cannot use security keys or passkeys. Verify another way, or use another browser.",
		"mfa.webauthn.noscript":         "This step needs JavaScript. Turn it on and reload the page.",
		"mfa.webauthn.refused":          "Your security key or passkey was not accepted. Try again.",
		"mfa.webauthn.unusable":         "This security key is blocked: it may have been copied. Verify another way and tell your administrator.",
		"mfa.select.title":              "Choose how to verify",
		"mfa.select.lead":               "Your account has more than one way to verify that it is you. Choose one.",
		"mfa.setup.title":               "Set up two-step verification",
		"mfa.setup.lead":                "Your organization asks for a second step when you sign in, after your password. Choose how you want to verify that it is you.",
		"mfa.setup.other":               "Or set up another way:",
		"mfa.setup.name":                "Name (optional)",
		"mfa.setup.submit":              "Confirm and continue",
		"mfa.setup.add":                 "Confirm",
		"mfa.setup.nameInvalid":         "A name may be at most 64 characters, without control characters.",
		"mfa.setup.totp.title":          "Set up your authenticator app",
		"mfa.setup.totp.scan":           "Scan this QR code with your authenticator app, such as Google Authenticator, Microsoft Authenticator or 1Password.",
		"mfa.setup.totp.qrAlt":          "QR code to scan with your authenticator app",
		"mfa.setup.totp.copy":           "Copy the key",
		"mfa.setup.totp.open":           "Open the key in an authenticator app on this device",
		"mfa.setup.totp.manual":         "Cannot scan it? Type this key into the app:",
		"mfa.setup.totp.confirm":        "Enter the 6-digit code the app now shows",
		"mfa.setup.totp.nameHint":       "So you can tell it apart later, for example “Work phone”.",
		"mfa.setup.webauthn.title":      "Register a security key or passkey",
		"mfa.setup.webauthn.lead":       "Your browser will ask you to touch your security key, or to create a passkey on this device.",
		"mfa.setup.webauthn.start":      "Register",
		"mfa.setup.webauthn.nameHint":   "So you can tell it apart later, for example “Blue key” or “Laptop”.",
		"mfa.setup.webauthn.registered": "This security key or passkey is registered already, to your account or another. Register a different one.",
		"mfa.tooMany.heading":           "Too many attempts",
		"mfa.tooMany":                   "Too many wrong answers. Start signing in again.",
		"mfa.recoveryCodes.title":       "Save your recovery codes",
		"mfa.recoveryCodes.lead":        "If you lose your phone or security key, each of these codes lets you sign in once. Print them or keep them in a password manager.",
		"mfa.recoveryCodes.copy":        "Copy the codes",
		"copy.done":                     "Copied.",
		"mfa.recoveryCodes.once":        "They are shown only now. You can make new ones on your account page.",
		"mfa.recoveryCodes.continue":    "I have saved them, continue",
		"mfa.recoveryCodes.back":        "I have saved them",
		"passkey.or":                    "or",
		"passkey.signIn":                "Sign in with a passkey",
		"passkey.title":                 "Sign in with a passkey",
		"passkey.lead":                  "Choose your passkey when your browser asks.",
		"passkey.start":                 "Use my passkey",
		"passkey.password":              "Sign in with your password instead",
		"passkey.refused":               "Your passkey was not accepted. Try again, or sign in with your password.",
		"passkey.unavailable":           "Signing in with a passkey is not possible here.",
		"account.title":                 "Your account",
		"account.clientName":            "your account",
		"account.signedInAs":            "Signed in as %s",
		"account.signOut":               "Sign out",
		"account.mfa.heading":           "Two-step verification",
		"account.mfa.required":          "Your organization asks for a second step after your password.",
		"account.mfa.optional":          "A second step after your password protects your account, even if someone learns the password.",
		"account.mfa.off":               "Your organization does not ask for a second step.",
		"account.mfa.none":              "You have not set up a second step yet.",
		"account.factor.app":            "Authenticator app",
		"account.factor.passkey":        "Passkey",
		"account.factor.securityKey":    "Security key",
		"account.factor.synced":         "synced",
		"account.factor.added":          "added %s",
		"account.factor.lastUsed":       "last used %s",
		"account.factor.preferred":      "asked first",
		"account.factor.cloned":         "Blocked: this key may have been copied. Ask your administrator to reset your two-step verification.",
		"account.factor.manage":         "Change",
		"account.factor.newName":        "Name",
		"account.factor.nameInvalid":    "Type a name of 1 to 64 characters, without control characters.",
		"account.factor.rename":         "Rename",
		"account.factor.prefer":         "Ask for this first",
		"account.factor.remove":         "Remove",
		"account.add":                   "Add: %s",
		"account.recovery.heading":      "Recovery codes",
		"account.recovery.left":         "You have %d unused recovery codes.",
		"account.recovery.leftOne":      "You have 1 unused recovery code.",
		"account.recovery.new":          "Make new recovery codes",
		"account.recovery.newHint":      "Your current codes stop working.",
		"account.password.heading":      "Password",
		"account.password.current":      "Current password",
		"account.password.submit":       "Change password",
		"account.password.wrong":        "Your current password is not right.",
		"account.password.same":         "Choose a password that differs from your current one.",
		"account.password.noCurrent":    "Enter your current password.",
		"account.lastFactor":            "This is your last second step, and your organization asks for one. Add another before you remove this one.",
		"account.noFactor":              "Set up a second step first; recovery codes stand in for it.",
		"account.tryAgain":              "That did not work, because the page was out of date. Try again.",
		"account.enrolEnded":            "This form was sent already, or adding has ended. The list below shows whether it was added; if not, add it again.",
		"account.enrolTooMany":          "Too many wrong answers. Start adding again.",
		"account.done.added":            "Added.",
		"account.done.removed":          "Removed.",
		"account.done.renamed":          "Renamed.",
		"account.done.preferred":        "This will be asked for first.",
		"account.done.password":         "Your password was changed.",
		"account.done.signedInAgain":    "You signed in again. You can now make your change.",
		"account.signInAgain":           "Adding or removing a second step, or making new recovery codes, needs a sign-in from the last %d minutes. Yours is older, so sign in again to make the change.",
		"account.factor.unused":         "Not used: your organization's current settings do not accept this kind of second step.",
		"login.mfaNowDue":               "Signing in now needs a second step after your password. Sign in again to continue.",
		"login.forgot":                  "Forgot your password?",
		"forgot.title":                  "Forgot your password?",
		"forgot.lead":                   "Type your username or email address. We will send a code to the email address of your account, with which you choose a new password.",
		"forgot.label":                  "Username or email",
		"forgot.submit":                 "Send code",
		"forgot.back":                   "Back to sign in",
		"forgot.missing":                "Enter your username or email address.",
		"forgot.rateLimited":            "Too many requests from your network. Wait a while and try again.",
		"resetpw.title":                 "Choose a new password",
		"resetpw.sent":                  "If an account exists for that name, we've sent a code to its email address. The code is valid for one hour.",
		"resetpw.lead":                  "Enter the code from the email and choose a new password.",
		"resetpw.login":                 "Username or email",
		"resetpw.code":                  "Code from the email",
		"resetpw.submit":                "Set new password",
		"resetpw.newCode":               "Request a new code",
		"resetpw.noCode":                "No code received, or is it no longer valid? Request a new one.",
		"resetpw.missing":               "Enter your username or email address, the code from the email, and your new password twice.",
		"resetpw.codeWrong":             "That code is not correct. Check the code in the most recent email and try again.",
		"resetpw.codeExpired":           "This code has expired or has already been used. Request a new code.",
		"resetpw.codeAttempts":          "Too many wrong codes: this code no longer works. Request a new code.",
		"resetdone.title":               "Your password has been changed",
		"resetdone.text":                "Sign in with your new password. For your safety, you have been signed out everywhere else.",
		"resetdone.signIn":              "Sign in",
		"home.signIn":                   "Sign in",
		"welcome.title":                 "Your account is ready",
		"welcome.signedIn":              "You are signed in to %s as %s.",
		"welcome.text":                  "To use an application of your organization, open it: it signs you in with this account.",
		"welcome.notSignedIn":           "You are not signed in",
		"welcome.signIn":                "Sign in",
		"find.emailInvalid":             "“%s” is not an email address. Check it, or type the name of your organization.",
		"find.rateLimited":              "Too many requests from your network. Wait a while and try again.",
		"findsent.title":                "Check your email",
		"findsent.text":                 "If %s has an account at any organization, we have sent it an email with the sign-in links. If nothing arrives within a few minutes, check the address or ask your administrator.",
		"findsent.again":                "Look up another organization",
	},
	langNL: {
		"error.heading.400":             "We kunnen niet verder",
		"error.heading.403":             "Dit verzoek is geweigerd",
		"error.heading.404":             "Pagina niet gevonden",
		"error.heading.405":             "Hier niet mogelijk",
		"error.heading.429":             "Een ogenblik geduld",
		"error.heading.500":             "Er ging iets mis",
		"error.internal":                "Er ging bij ons iets mis. Probeer het zo nog eens.",
		"error.notFound":                "Deze pagina bestaat niet.",
		"error.csrf.expired":            "Dit formulier is verlopen. Ga terug, laad de pagina opnieuw en probeer het nog eens.",
		"error.csrf.crossSite":          "Dit formulier kwam van een andere site en is daarom geweigerd. Open de pagina van deze site zelf en probeer het nog eens.",
		"error.tooLarge":                "Het verzonden formulier is te groot.",
		"error.badForm":                 "Het formulier kon niet worden gelezen. Laad de pagina opnieuw en probeer het nog eens.",
		"error.backHome":                "Naar de startpagina",
		"noOrg.heading":                 "Er is geen organisatie op dit adres",
		"noOrg.text":                    "Controleer het adres dat u typte, of zoek uw organisatie op naam.",
		"org.unavailable.heading":       "Tijdelijk niet beschikbaar",
		"org.unavailable":               "Inloggen bij deze organisatie is nu niet mogelijk. Probeer het over een paar minuten opnieuw; blijft het zo, meld het dan aan uw beheerder.",
		"noOrg.link":                    "Zoek uw organisatie",
		"login.expired.heading":         "Deze inloglink is verlopen",
		"login.expired":                 "Deze inloglink is verlopen of al gebruikt. Ga terug naar de applicatie en begin opnieuw, of log hier in bij uw organisatie.",
		"login.expired.link":            "Hier inloggen",
		"login.refused.heading":         "Deze inloglink werkt hier niet",
		"login.refused":                 "De link is onvolledig, of de applicatie die u hierheen stuurde is niet ingesteld om bij deze organisatie in te loggen. Ga terug naar de applicatie en begin opnieuw; gebeurt het weer, meld het dan aan de beheerder van de applicatie.",
		"logout.refused.heading":        "Deze uitloglink werkt hier niet",
		"logout.failed":                 "Er ging bij ons iets mis, dus u bent niet uitgelogd. Probeer het zo nog eens.",
		"logout.refused":                "De applicatie die u hierheen stuurde is niet ingesteld om bij deze organisatie uit te loggen, dus u bent niet uitgelogd. Ga terug naar de applicatie en log opnieuw uit; gebeurt het weer, meld het dan aan de beheerder van de applicatie.",
		"login.title":                   "Inloggen",
		"login.heading":                 "Inloggen bij %s",
		"login.toContinue":              "om verder te gaan naar %s",
		"login.username":                "Gebruikersnaam of e-mailadres",
		"login.password":                "Wachtwoord",
		"login.submit":                  "Inloggen",
		"login.missing":                 "Vul uw gebruikersnaam en uw wachtwoord in.",
		"login.incorrect":               "Gebruikersnaam of wachtwoord onjuist.",
		"login.locked":                  "Te veel mislukte pogingen. Probeer het over een paar minuten opnieuw.",
		"login.tempExpired":             "Uw tijdelijke wachtwoord is verlopen. Vraag uw beheerder om een nieuwe uitnodiging te sturen.",
		"login.unavailable":             "Inloggen is tijdelijk niet mogelijk. Probeer het over een paar minuten opnieuw.",
		"login.stepUnavailable.heading": "Dit inloggen kan hier niet worden afgerond",
		"login.stepUnavailable":         "Uw account vraagt om een inlogstap die op deze pagina nog niet kan. Neem contact op met uw beheerder.",
		"field.showPassword":            "Wachtwoord tonen",
		"field.hidePassword":            "Wachtwoord verbergen",
		"newpw.title":                   "Kies een nieuw wachtwoord",
		"newpw.lead":                    "Uw tijdelijke wachtwoord klopt. Kies nu uw eigen wachtwoord om het inloggen af te ronden.",
		"newpw.account":                 "Account: %s",
		"newpw.new":                     "Nieuw wachtwoord",
		"newpw.confirm":                 "Herhaal het nieuwe wachtwoord",
		"newpw.submit":                  "Wachtwoord instellen en doorgaan",
		"newpw.policy":                  "Eisen voor uw wachtwoord:",
		"newpw.missing":                 "Vul uw nieuwe wachtwoord twee keer in.",
		"newpw.mismatch":                "De twee wachtwoorden zijn niet gelijk.",
		"newpw.policyFailed":            "Uw nieuwe wachtwoord voldoet niet aan deze eisen:",
		"newpw.unchanged":               "Kies een ander wachtwoord dan uw tijdelijke wachtwoord.",
		"newpw.saved.heading":           "Uw nieuwe wachtwoord is opgeslagen",
		"newpw.saved":                   "Dit formulier was al verstuurd, en uw nieuwe wachtwoord is toen opgeslagen. U bent ingelogd: ga terug naar de applicatie, of ga hier verder.",
		"newpw.saved.link":              "Doorgaan",
		"signin.ended.heading":          "Dit inloggen is beëindigd",
		"signin.ended":                  "Deze stap is al gedaan, of dit inloggen is beëindigd. Begin opnieuw met inloggen.",
		"signin.expired":                "Elke stap van het inloggen moet binnen %d minuten klaar zijn. Deze stap duurde langer, of was al gedaan (in een ander tabblad, of doordat het formulier twee keer is verstuurd). Begin opnieuw met inloggen.",
		"signin.expired.setup":          "Elke stap van het inloggen moet binnen %d minuten klaar zijn. Deze stap duurde langer, of was al gedaan (in een ander tabblad, of doordat het formulier twee keer is verstuurd). Begin opnieuw met inloggen. Wordt u opnieuw gevraagd uw tweede stap in te stellen, verwijder dan eerst wat u deze keer aan uw authenticator-app of apparaat hebt toegevoegd: dat werkt niet.",
		"signin.timeLimit":              "U hebt %d minuten om deze stap af te ronden.",
		"signin.mismatch":               "Dit verzoek past niet bij deze stap van het inloggen. Begin opnieuw met inloggen.",
		"signin.reload.heading":         "Deze stap van het inloggen kan niet los worden geopend",
		"signin.reload":                 "Dit adres beantwoordt een formulier van het inloggen en kan niet opnieuw worden geopend. Ga terug naar de applicatie en begin opnieuw met inloggen.",
		"error.method":                  "Deze pagina kan niet op deze manier worden gebruikt.",
		"newpw.expired.link":            "Opnieuw beginnen",
		"rule.too_short":                "minstens %d tekens",
		"rule.too_long":                 "hooguit %d tekens",
		"rule.missing_uppercase":        "een hoofdletter",
		"rule.missing_lowercase":        "een kleine letter",
		"rule.missing_number":           "een cijfer",
		"rule.missing_symbol":           "een symbool, zoals ! ? # of %",
		"rule.edge_whitespace":          "geen spatie aan het begin of het eind",
		"rule.characters":               "alleen tekens die een toetsenbord typt: geen stuurtekens",
		"rule.reused":                   "niet een van uw recente wachtwoorden",
		"reset.title":                   "Stel uw wachtwoord opnieuw in",
		"reset.text":                    "Uw wachtwoord moet opnieuw worden ingesteld voordat u kunt inloggen. Vraag een code per e-mail aan om een nieuw wachtwoord te kiezen.",
		"reset.link":                    "Mijn wachtwoord opnieuw instellen",
		"loggedOut.title":               "U bent uitgelogd",
		"loggedOut.text":                "U kunt dit venster sluiten.",
		"loggedOut.signIn":              "Opnieuw inloggen",
		"logout.confirm.title":          "Uitloggen bij %s?",
		"logout.confirm.signedInAs":     "U bent ingelogd als %s.",
		"logout.confirm.text":           "Na het uitloggen vragen applicaties die u hierheen sturen u opnieuw in te loggen.",
		"logout.confirm.submit":         "Uitloggen",
		"logout.confirm.cancel":         "Ingelogd blijven",
		"home.text":                     "Open een applicatie om die te gebruiken: die brengt u hier om in te loggen. U kunt ook hier direct inloggen, bijvoorbeeld de eerste keer, met het tijdelijke wachtwoord uit uw uitnodiging.",
		"home.dev.heading":              "Ontwikkelmodus",
		"home.dev.text":                 "Probeer het inloggen met de voorbeeldapplicatie. Start die met:",
		"home.dev.open":                 "Open de voorbeeldapplicatie",
		"home.dev.noClient":             "Registreer een client met de redirect-URI %s om de voorbeeldapplicatie te proberen.",
		"find.title":                    "Vind uw organisatie",
		"find.lead":                     "U logt in op het eigen adres van uw organisatie. Typ de naam en we brengen u erheen, of typ uw e-mailadres en we mailen u de links.",
		"find.label":                    "Naam van de organisatie of e-mailadres",
		"find.hint":                     "De naam van de organisatie, de korte naam aan het begin van uw inlogadres, of uw e-mailadres.",
		"find.submit":                   "Doorgaan",
		"find.empty":                    "Typ de naam van uw organisatie of uw e-mailadres.",
		"find.notFound":                 "We konden geen organisatie vinden met de naam “%s”. Controleer de spelling of vraag uw beheerder om het inlogadres van uw organisatie.",
		"find.ambiguous":                "Er is meer dan één organisatie met de naam “%s”, dus we weten niet welke de uwe is. Typ in plaats daarvan de korte naam van uw organisatie: het begin van het inlogadres, vóór de eerste punt. Uw beheerder kan u vertellen wat die is.",
		"find.devMail":                  "Ontwikkelpostvak",
		"devmail.title":                 "Ontwikkelpostvak",
		"devmail.lead":                  "Mail die Cognate zou hebben verstuurd. In de ontwikkelmodus verlaat niets deze machine; de nieuwste mail staat bovenaan.",
		"devmail.empty":                 "Nog geen mail.",
		"devmail.to":                    "Aan",
		"devmail.subject":               "Onderwerp",
		"devmail.noSubject":             "(geen onderwerp)",
		"devmail.text":                  "Tekst",
		"devmail.html":                  "HTML",
		"devmail.htmlFrame":             "Het HTML-deel van de mail",
		"devmail.back":                  "Alle mail",
		"devmail.gone":                  "Deze mail wordt niet meer bewaard.",
		"devmail.unavailable":           "Mail gaat naar een mailserver, dus er is geen ontwikkelpostvak om te tonen.",
		"mfa.code.title":                "Verificatie in twee stappen",
		"mfa.code.lead":                 "Vul de code van 6 cijfers in die uw authenticator-app voor dit account toont.",
		"mfa.code.label":                "Code",
		"mfa.code.submit":               "Controleren",
		"mfa.code.wrong":                "Die code klopt niet. Kijk in de app en probeer het opnieuw.",
		"mfa.code.reused":               "Die code is al gebruikt. Wacht op de volgende code in uw app.",
		"mfa.code.malformed":            "Vul de 6 cijfers in die uw app toont.",
		"mfa.code.unusable":             "Uw authenticator-app kan op dit moment niet worden gebruikt. Gebruik een herstelcode of een andere manier, en vraag uw beheerder uw verificatie in twee stappen te resetten.",
		"mfa.recovery.summary":          "Een herstelcode gebruiken",
		"mfa.recovery.label":            "Herstelcode",
		"mfa.recovery.hint":             "Een van de codes die u bewaarde toen u verificatie in twee stappen instelde. Elke code werkt één keer.",
		"mfa.recovery.submit":           "Herstelcode gebruiken",
		"mfa.recovery.wrong":            "Die herstelcode klopt niet, of is al gebruikt.",
		"mfa.other":                     "Of verifieer op een andere manier:",
		"mfa.kind.totp":                 "Authenticator-app",
		"mfa.kind.webauthn":             "Beveiligingssleutel of passkey",
		"mfa.webauthn.title":            "Gebruik uw beveiligingssleutel of passkey",
		"mfa.webauthn.lead":             "Bevestig met uw beveiligingssleutel, of met de passkey op dit apparaat (vingerafdruk, gezicht of pincode).",
		"mfa.webauthn.start":            "Beveiligingssleutel of passkey gebruiken",
		"mfa.webauthn.cancelled":        "Het verzoek is geannuleerd of duurde te lang. Probeer het opnieuw.",
		"mfa.webauthn.failed":           "Uw browser kon hier geen beveiligingssleutel of passkey gebruiken. Probeer het opnieuw, of verifieer op een andere manier.",
		"mfa.webauthn.unsupported":      "Deze browser kan geen beveiligingssleutels of passkeys gebruiken. Verifieer op een andere manier, of gebruik een andere browser.",
		"mfa.webauthn.noscript":         "Voor deze stap is JavaScript nodig. Zet het aan en laad de pagina opnieuw.",
		"mfa.webauthn.refused":          "Uw beveiligingssleutel of passkey werd niet geaccepteerd. Probeer het opnieuw.",
		"mfa.webauthn.unusable":         "Deze beveiligingssleutel is geblokkeerd: hij is mogelijk gekopieerd. Verifieer op een andere manier en licht uw beheerder in.",
		"mfa.select.title":              "Kies hoe u verifieert",
		"mfa.select.lead":               "Uw account heeft meer dan één manier om te verifiëren dat u het bent. Kies er een.",
		"mfa.setup.title":               "Verificatie in twee stappen instellen",
		"mfa.setup.lead":                "Uw organisatie vraagt bij het inloggen na uw wachtwoord om een tweede stap. Kies hoe u wilt verifiëren dat u het bent.",
		"mfa.setup.other":               "Of stel een andere manier in:",
		"mfa.setup.name":                "Naam (niet verplicht)",
		"mfa.setup.submit":              "Bevestigen en doorgaan",
		"mfa.setup.add":                 "Bevestigen",
		"mfa.setup.nameInvalid":         "Een naam mag hooguit 64 tekens hebben, zonder stuurtekens.",
		"mfa.setup.totp.title":          "Uw authenticator-app instellen",
		"mfa.setup.totp.scan":           "Scan deze QR-code met uw authenticator-app, zoals Google Authenticator, Microsoft Authenticator of 1Password.",
		"mfa.setup.totp.qrAlt":          "QR-code om te scannen met uw authenticator-app",
		"mfa.setup.totp.copy":           "Sleutel kopiëren",
		"mfa.setup.totp.open":           "Open de sleutel in een authenticator-app op dit apparaat",
		"mfa.setup.totp.manual":         "Lukt scannen niet? Typ deze sleutel in de app:",
		"mfa.setup.totp.confirm":        "Vul de code van 6 cijfers in die de app nu toont",
		"mfa.setup.totp.nameHint":       "Zodat u hem later herkent, bijvoorbeeld “Telefoon werk”.",
		"mfa.setup.webauthn.title":      "Beveiligingssleutel of passkey registreren",
		"mfa.setup.webauthn.lead":       "Uw browser vraagt u uw beveiligingssleutel aan te raken, of een passkey op dit apparaat te maken.",
		"mfa.setup.webauthn.start":      "Registreren",
		"mfa.setup.webauthn.nameHint":   "Zodat u hem later herkent, bijvoorbeeld “Blauwe sleutel” of “Laptop”.",
		"mfa.setup.webauthn.registered": "Deze beveiligingssleutel of passkey is al geregistreerd, voor uw account of een ander. Registreer een andere.",
		"mfa.tooMany.heading":           "Te veel pogingen",
		"mfa.tooMany":                   "Te veel verkeerde antwoorden. Begin opnieuw met inloggen.",
		"mfa.recoveryCodes.title":       "Bewaar uw herstelcodes",
		"mfa.recoveryCodes.lead":        "Raakt u uw telefoon of beveiligingssleutel kwijt, dan kunt u met elk van deze codes één keer inloggen. Druk ze af of bewaar ze in een wachtwoordmanager.",
		"mfa.recoveryCodes.copy":        "Codes kopiëren",
		"copy.done":                     "Gekopieerd.",
		"mfa.recoveryCodes.once":        "Ze worden alleen nu getoond. Op uw accountpagina kunt u nieuwe maken.",
		"mfa.recoveryCodes.continue":    "Ik heb ze bewaard, doorgaan",
		"mfa.recoveryCodes.back":        "Ik heb ze bewaard",
		"passkey.or":                    "of",
		"passkey.signIn":                "Inloggen met een passkey",
		"passkey.title":                 "Inloggen met een passkey",
		"passkey.lead":                  "Kies uw passkey wanneer uw browser erom vraagt.",
		"passkey.start":                 "Mijn passkey gebruiken",
		"passkey.password":              "Toch inloggen met uw wachtwoord",
		"passkey.refused":               "Uw passkey werd niet geaccepteerd. Probeer het opnieuw, of log in met uw wachtwoord.",
		"passkey.unavailable":           "Inloggen met een passkey kan hier niet.",
		"account.title":                 "Uw account",
		"account.clientName":            "uw account",
		"account.signedInAs":            "Ingelogd als %s",
		"account.signOut":               "Uitloggen",
		"account.mfa.heading":           "Verificatie in twee stappen",
		"account.mfa.required":          "Uw organisatie vraagt na uw wachtwoord om een tweede stap.",
		"account.mfa.optional":          "Een tweede stap na uw wachtwoord beschermt uw account, ook als iemand het wachtwoord te weten komt.",
		"account.mfa.off":               "Uw organisatie vraagt niet om een tweede stap.",
		"account.mfa.none":              "U hebt nog geen tweede stap ingesteld.",
		"account.factor.app":            "Authenticator-app",
		"account.factor.passkey":        "Passkey",
		"account.factor.securityKey":    "Beveiligingssleutel",
		"account.factor.synced":         "gesynchroniseerd",
		"account.factor.added":          "toegevoegd %s",
		"account.factor.lastUsed":       "laatst gebruikt %s",
		"account.factor.preferred":      "wordt eerst gevraagd",
		"account.factor.cloned":         "Geblokkeerd: deze sleutel is mogelijk gekopieerd. Vraag uw beheerder uw verificatie in twee stappen te resetten.",
		"account.factor.manage":         "Wijzigen",
		"account.factor.newName":        "Naam",
		"account.factor.nameInvalid":    "Typ een naam van 1 tot 64 tekens, zonder stuurtekens.",
		"account.factor.rename":         "Naam wijzigen",
		"account.factor.prefer":         "Dit eerst vragen",
		"account.factor.remove":         "Verwijderen",
		"account.add":                   "Toevoegen: %s",
		"account.recovery.heading":      "Herstelcodes",
		"account.recovery.left":         "U hebt %d ongebruikte herstelcodes.",
		"account.recovery.leftOne":      "U hebt 1 ongebruikte herstelcode.",
		"account.recovery.new":          "Nieuwe herstelcodes maken",
		"account.recovery.newHint":      "Uw huidige codes werken dan niet meer.",
		"account.password.heading":      "Wachtwoord",
		"account.password.current":      "Huidig wachtwoord",
		"account.password.submit":       "Wachtwoord wijzigen",
		"account.password.wrong":        "Uw huidige wachtwoord klopt niet.",
		"account.password.same":         "Kies een ander wachtwoord dan uw huidige.",
		"account.password.noCurrent":    "Vul uw huidige wachtwoord in.",
		"account.lastFactor":            "Dit is uw laatste tweede stap, en uw organisatie vraagt erom. Voeg eerst een andere toe voordat u deze verwijdert.",
		"account.noFactor":              "Stel eerst een tweede stap in; herstelcodes vervangen die.",
		"account.tryAgain":              "Dat lukte niet, omdat de pagina verouderd was. Probeer het opnieuw.",
		"account.enrolEnded":            "Dit formulier is al verzonden, of het toevoegen is beëindigd. De lijst hieronder laat zien of het is toegevoegd; zo niet, voeg het opnieuw toe.",
		"account.enrolTooMany":          "Te veel verkeerde antwoorden. Begin opnieuw met toevoegen.",
		"account.done.added":            "Toegevoegd.",
		"account.done.removed":          "Verwijderd.",
		"account.done.renamed":          "Naam gewijzigd.",
		"account.done.preferred":        "Dit wordt voortaan eerst gevraagd.",
		"account.done.password":         "Uw wachtwoord is gewijzigd.",
		"account.done.signedInAgain":    "U bent opnieuw ingelogd. U kunt de wijziging nu doen.",
		"account.signInAgain":           "Voor het toevoegen of verwijderen van een tweede stap, of voor nieuwe herstelcodes, moet u in de afgelopen %d minuten zijn ingelogd. Dat is langer geleden, dus log opnieuw in om de wijziging te doen.",
		"account.factor.unused":         "Niet in gebruik: de huidige instellingen van uw organisatie accepteren dit soort tweede stap niet.",
		"login.mfaNowDue":               "Inloggen vraagt nu om een tweede stap na uw wachtwoord. Log opnieuw in om verder te gaan.",
		"login.forgot":                  "Wachtwoord vergeten?",
		"forgot.title":                  "Wachtwoord vergeten?",
		"forgot.lead":                   "Typ uw gebruikersnaam of e-mailadres. We sturen een code naar het e-mailadres van uw account, waarmee u een nieuw wachtwoord kiest.",
		"forgot.label":                  "Gebruikersnaam of e-mailadres",
		"forgot.submit":                 "Code versturen",
		"forgot.back":                   "Terug naar inloggen",
		"forgot.missing":                "Vul uw gebruikersnaam of e-mailadres in.",
		"forgot.rateLimited":            "Te veel aanvragen vanaf uw netwerk. Wacht even en probeer het dan opnieuw.",
		"resetpw.title":                 "Kies een nieuw wachtwoord",
		"resetpw.sent":                  "Als er een account met die naam bestaat, hebben we een code naar het e-mailadres daarvan gestuurd. De code is een uur geldig.",
		"resetpw.lead":                  "Vul de code uit de e-mail in en kies een nieuw wachtwoord.",
		"resetpw.login":                 "Gebruikersnaam of e-mailadres",
		"resetpw.code":                  "Code uit de e-mail",
		"resetpw.submit":                "Nieuw wachtwoord instellen",
		"resetpw.newCode":               "Vraag een nieuwe code aan",
		"resetpw.noCode":                "Geen code ontvangen, of is die niet meer geldig? Vraag een nieuwe aan.",
		"resetpw.missing":               "Vul uw gebruikersnaam of e-mailadres in, de code uit de e-mail en twee keer uw nieuwe wachtwoord.",
		"resetpw.codeWrong":             "Die code klopt niet. Controleer de code in de meest recente e-mail en probeer het opnieuw.",
		"resetpw.codeExpired":           "Deze code is verlopen of al gebruikt. Vraag een nieuwe code aan.",
		"resetpw.codeAttempts":          "Te vaak een verkeerde code: deze code werkt niet meer. Vraag een nieuwe code aan.",
		"resetdone.title":               "Uw wachtwoord is gewijzigd",
		"resetdone.text":                "Log in met uw nieuwe wachtwoord. Voor uw veiligheid bent u overal elders uitgelogd.",
		"resetdone.signIn":              "Inloggen",
		"home.signIn":                   "Inloggen",
		"welcome.title":                 "Uw account is klaar",
		"welcome.signedIn":              "U bent bij %s ingelogd als %s.",
		"welcome.text":                  "Open een applicatie van uw organisatie om die te gebruiken: die logt u in met dit account.",
		"welcome.notSignedIn":           "U bent niet ingelogd",
		"welcome.signIn":                "Inloggen",
		"find.emailInvalid":             "“%s” is geen e-mailadres. Controleer het, of typ de naam van uw organisatie.",
		"find.rateLimited":              "Te veel aanvragen vanaf uw netwerk. Wacht even en probeer het dan opnieuw.",
		"findsent.title":                "Kijk in uw e-mail",
		"findsent.text":                 "Als %s een account heeft bij een organisatie, hebben we er een e-mail met de inloglinks naartoe gestuurd. Komt er binnen een paar minuten niets binnen? Controleer dan het adres of vraag het uw beheerder.",
		"findsent.again":                "Een andere organisatie zoeken",
	},
}

// checkCatalogue reports keys that one language has and another lacks, and
// empty sentences.
func checkCatalogue() error {
	var problems []string
	for l, msgs := range catalogue {
		for other, otherMsgs := range catalogue {
			for k := range otherMsgs {
				if _, ok := msgs[k]; !ok {
					problems = append(problems, fmt.Sprintf("%s has %q, %s lacks it", other, k, l))
				}
			}
		}
		for k, v := range msgs {
			if strings.TrimSpace(v) == "" {
				problems = append(problems, fmt.Sprintf("%s %q is empty", l, k))
			}
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("ui: message catalogue: %s", strings.Join(problems, "; "))
	}
	return nil
}

// text returns the sentence for key, formatted with args. A key missing at
// run time (New checks templates, a test checks Go code) shows as itself
// rather than as an empty page.
func (l lang) text(key msgKey, args ...any) string {
	s, ok := catalogue[l][key]
	if !ok {
		s, ok = catalogue[langEN][key]
	}
	if !ok {
		return string(key)
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// ruleKeys maps the password policy's rules to sentences.
var ruleKeys = map[password.Rule]msgKey{
	password.RuleTooShort:   msgRuleTooShort,
	password.RuleTooLong:    msgRuleTooLong,
	password.RuleUppercase:  msgRuleUppercase,
	password.RuleLowercase:  msgRuleLowercase,
	password.RuleNumber:     msgRuleNumber,
	password.RuleSymbol:     msgRuleSymbol,
	password.RuleWhitespace: msgRuleWhitespace,
	password.RuleCharacters: msgRuleCharacters,
	password.RuleReused:     msgRuleReused,
}

// ruleText says one rule as a requirement ("at least 8 characters").
func (l lang) ruleText(r password.Rule, policy password.Policy) string {
	switch r {
	case password.RuleTooShort:
		return l.text(msgRuleTooShort, policy.MinimumLength)
	case password.RuleTooLong:
		return l.text(msgRuleTooLong, password.MaxLength)
	}
	if key, ok := ruleKeys[r]; ok {
		return l.text(key)
	}
	// A rule added to the policy package before this catalogue learned it:
	// say something true rather than nothing.
	return l.text(msgNewPwPolicyFailed)
}

// failedRules lists, in words, what a new password refused by policy
// (err matches password.ErrPolicy) did not meet: the rules its
// *password.PolicyError names, or the whole policy when it names none.
func (l lang) failedRules(err error, policy password.Policy) []string {
	var policyErr *password.PolicyError
	if !errors.As(err, &policyErr) || len(policyErr.Rules) == 0 {
		return l.policyText(policy)
	}
	failed := make([]string, 0, len(policyErr.Rules))
	for _, rule := range policyErr.Rules {
		failed = append(failed, l.ruleText(rule, policy))
	}
	return failed
}

// policyText lists what a tenant's policy asks, in words.
func (l lang) policyText(policy password.Policy) []string {
	out := []string{l.ruleText(password.RuleTooShort, policy)}
	for _, c := range []struct {
		on   bool
		rule password.Rule
	}{
		{policy.RequireUppercase, password.RuleUppercase},
		{policy.RequireLowercase, password.RuleLowercase},
		{policy.RequireNumbers, password.RuleNumber},
		{policy.RequireSymbols, password.RuleSymbol},
	} {
		if c.on {
			out = append(out, l.ruleText(c.rule, policy))
		}
	}
	return out
}

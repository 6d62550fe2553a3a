package ui

import (
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
// many Dutch people whose browsers happen to ask for English first.
func chooseLang(r *http.Request, tenantLocale string) lang {
	if browserPrefers(r.Header.Get("Accept-Language")) == langNL {
		return langNL
	}
	if tenantLocale == string(langNL) {
		return langNL
	}
	return langEN
}

// browserPrefers returns the primary language of the Accept-Language entry
// with the highest weight (the first of equals), or "" when there is none.
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
		if tag == "" || q <= bestQ {
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
	msgErrorHeading429    msgKey = "error.heading.429"
	msgErrorHeading500    msgKey = "error.heading.500"
	msgInternal           msgKey = "error.internal"
	msgPageNotFound       msgKey = "error.notFound"
	msgCSRF               msgKey = "error.csrf"
	msgTooLarge           msgKey = "error.tooLarge"
	msgBadForm            msgKey = "error.badForm"
	msgBackHome           msgKey = "error.backHome"
	msgNoOrgHeading       msgKey = "noOrg.heading"
	msgNoOrg              msgKey = "noOrg.text"
	msgNoOrgLink          msgKey = "noOrg.link"
	msgLoginExpiredHead   msgKey = "login.expired.heading"
	msgLoginExpired       msgKey = "login.expired"
	msgLoginMissing       msgKey = "login.missing"
	msgLoginIncorrect     msgKey = "login.incorrect"
	msgLoginLocked        msgKey = "login.locked"
	msgLoginTempExpired   msgKey = "login.tempExpired"
	msgStepUnavailableH   msgKey = "login.stepUnavailable.heading"
	msgStepUnavailable    msgKey = "login.stepUnavailable"
	msgNewPwMissing       msgKey = "newpw.missing"
	msgNewPwMismatch      msgKey = "newpw.mismatch"
	msgNewPwPolicyFailed  msgKey = "newpw.policyFailed"
	msgNewPwUnchanged     msgKey = "newpw.unchanged"
	msgNewPwExpiredHead   msgKey = "newpw.expired.heading"
	msgNewPwExpired       msgKey = "newpw.expired"
	msgNewPwStartAgain    msgKey = "newpw.expired.link"
	msgRuleTooShort       msgKey = "rule.too_short"
	msgRuleTooLong        msgKey = "rule.too_long"
	msgRuleUppercase      msgKey = "rule.missing_uppercase"
	msgRuleLowercase      msgKey = "rule.missing_lowercase"
	msgRuleNumber         msgKey = "rule.missing_number"
	msgRuleSymbol         msgKey = "rule.missing_symbol"
	msgRuleWhitespace     msgKey = "rule.edge_whitespace"
	msgRuleReused         msgKey = "rule.reused"
	msgFindEmpty          msgKey = "find.empty"
	msgFindNotFound       msgKey = "find.notFound"
	msgFindEmail          msgKey = "find.email"
	msgDevMailGone        msgKey = "devmail.gone"
	msgDevMailUnavailable msgKey = "devmail.unavailable"
)

// catalogue holds every sentence a person reads, per language. New checks
// that both languages hold the same keys. It is read-only after start-up.
var catalogue = map[lang]map[msgKey]string{
	langEN: {
		"error.heading.400":             "We cannot continue",
		"error.heading.403":             "This request was refused",
		"error.heading.404":             "Page not found",
		"error.heading.429":             "Please wait a moment",
		"error.heading.500":             "Something went wrong",
		"error.internal":                "Something went wrong on our side. Try again in a moment.",
		"error.notFound":                "This page does not exist.",
		"error.csrf":                    "This form has expired or was sent from another site. Go back, reload the page and try again.",
		"error.tooLarge":                "The form you sent is too large.",
		"error.badForm":                 "The form could not be read. Reload the page and try again.",
		"error.backHome":                "Go to the start page",
		"noOrg.heading":                 "There is no organization at this address",
		"noOrg.text":                    "Check the address you typed, or look up your organization by its name.",
		"noOrg.link":                    "Find your organization",
		"login.expired.heading":         "This sign-in link has expired",
		"login.expired":                 "This sign-in link has expired. Go back to the application and start again.",
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
		"newpw.expired.heading":         "This sign-in took too long",
		"newpw.expired":                 "This sign-in took too long. Start again.",
		"newpw.expired.link":            "Start again",
		"rule.too_short":                "at least %d characters",
		"rule.too_long":                 "at most %d characters",
		"rule.missing_uppercase":        "an uppercase letter",
		"rule.missing_lowercase":        "a lowercase letter",
		"rule.missing_number":           "a number",
		"rule.missing_symbol":           "a symbol, such as ! ? # or %",
		"rule.edge_whitespace":          "no space at the start or the end",
		"rule.reused":                   "not one of your recent passwords",
		"reset.title":                   "Reset your password",
		"reset.text":                    "Your password must be reset before you can sign in. Request a reset code to choose a new password.",
		"reset.link":                    "Reset my password",
		"loggedOut.title":               "You are signed out",
		"loggedOut.text":                "You can close this window.",
		"home.text":                     "Sign in through your application: open the application you want to use, and it will bring you here.",
		"home.dev.heading":              "Development mode",
		"home.dev.text":                 "Try a sign-in with the example application. Start it with:",
		"home.dev.open":                 "Open the example application",
		"home.dev.noClient":             "To try the example application, register a client with the redirect URI %s.",
		"find.title":                    "Find your organization",
		"find.lead":                     "You sign in at your organization's own address. Type its name and we will take you there.",
		"find.label":                    "Organization name",
		"find.hint":                     "Its name, or the short name at the start of your sign-in address.",
		"find.submit":                   "Continue",
		"find.empty":                    "Type the name of your organization.",
		"find.notFound":                 "We could not find an organization called “%s”. Check the spelling or ask your administrator for your organization's sign-in address.",
		"find.email":                    "Looking up an organization by email address is not possible yet. Type the name of your organization instead.",
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
	},
	langNL: {
		"error.heading.400":             "We kunnen niet verder",
		"error.heading.403":             "Dit verzoek is geweigerd",
		"error.heading.404":             "Pagina niet gevonden",
		"error.heading.429":             "Een ogenblik geduld",
		"error.heading.500":             "Er ging iets mis",
		"error.internal":                "Er ging bij ons iets mis. Probeer het zo nog eens.",
		"error.notFound":                "Deze pagina bestaat niet.",
		"error.csrf":                    "Dit formulier is verlopen of kwam van een andere site. Ga terug, laad de pagina opnieuw en probeer het nog eens.",
		"error.tooLarge":                "Het verzonden formulier is te groot.",
		"error.badForm":                 "Het formulier kon niet worden gelezen. Laad de pagina opnieuw en probeer het nog eens.",
		"error.backHome":                "Naar de startpagina",
		"noOrg.heading":                 "Er is geen organisatie op dit adres",
		"noOrg.text":                    "Controleer het adres dat u typte, of zoek uw organisatie op naam.",
		"noOrg.link":                    "Zoek uw organisatie",
		"login.expired.heading":         "Deze inloglink is verlopen",
		"login.expired":                 "Deze inloglink is verlopen. Ga terug naar de applicatie en begin opnieuw.",
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
		"newpw.expired.heading":         "Dit inloggen duurde te lang",
		"newpw.expired":                 "Dit inloggen duurde te lang. Begin opnieuw.",
		"newpw.expired.link":            "Opnieuw beginnen",
		"rule.too_short":                "minstens %d tekens",
		"rule.too_long":                 "hooguit %d tekens",
		"rule.missing_uppercase":        "een hoofdletter",
		"rule.missing_lowercase":        "een kleine letter",
		"rule.missing_number":           "een cijfer",
		"rule.missing_symbol":           "een symbool, zoals ! ? # of %",
		"rule.edge_whitespace":          "geen spatie aan het begin of het eind",
		"rule.reused":                   "niet een van uw recente wachtwoorden",
		"reset.title":                   "Stel uw wachtwoord opnieuw in",
		"reset.text":                    "Uw wachtwoord moet opnieuw worden ingesteld voordat u kunt inloggen. Vraag een herstelcode aan om een nieuw wachtwoord te kiezen.",
		"reset.link":                    "Mijn wachtwoord opnieuw instellen",
		"loggedOut.title":               "U bent uitgelogd",
		"loggedOut.text":                "U kunt dit venster sluiten.",
		"home.text":                     "Log in via uw applicatie: open de applicatie die u wilt gebruiken, die brengt u hier.",
		"home.dev.heading":              "Ontwikkelmodus",
		"home.dev.text":                 "Probeer het inloggen met de voorbeeldapplicatie. Start die met:",
		"home.dev.open":                 "Open de voorbeeldapplicatie",
		"home.dev.noClient":             "Registreer een client met de redirect-URI %s om de voorbeeldapplicatie te proberen.",
		"find.title":                    "Vind uw organisatie",
		"find.lead":                     "U logt in op het eigen adres van uw organisatie. Typ de naam en we brengen u erheen.",
		"find.label":                    "Naam van de organisatie",
		"find.hint":                     "De naam, of de korte naam aan het begin van uw inlogadres.",
		"find.submit":                   "Doorgaan",
		"find.empty":                    "Typ de naam van uw organisatie.",
		"find.notFound":                 "We konden geen organisatie vinden met de naam “%s”. Controleer de spelling of vraag uw beheerder om het inlogadres van uw organisatie.",
		"find.email":                    "Een organisatie opzoeken met een e-mailadres kan nog niet. Typ in plaats daarvan de naam van uw organisatie.",
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

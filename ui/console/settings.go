package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/password"
)

// The tenant's settings: its name, language and branding (which the login
// pages and mails use), the group whose members administer it, the MFA
// policy, the password policy, the validity of temporary passwords and the
// lockout. The form is read into a tenant.TenantChange at the edge, each
// number within its range and each problem named in the person's language;
// UpdateTenant validates the whole again and writes it in one transaction.

type settingsPage struct {
	frame
	Form settingsForm
	// Version is the version of the settings the page was made from
	// (formOf of the tenant then): a save of another is refused.
	Version string
	Invalid map[string]bool
	Groups  []string // what the admin group may be
	// LockExact says the lock duration to the second when the form's
	// whole minutes do not (it was set through the admin API).
	LockExact string
}

func (settingsPage) template() string { return tmplSettings }

// Limits are the ranges of the form's numbers, which its inputs carry as
// min and max.
func (settingsPage) Limits() settingsLimits { return limitsOfSettings() }

// numberRange is the range, both ends included, a number must be in.
type numberRange struct{ Min, Max int }

// settingsLimits are the ranges of the settings form's numbers.
type settingsLimits struct {
	MinLength, HistorySize, TempDays, MaxFailures, LockMinutes numberRange
}

// limitsOfSettings are the ranges of the settings form's numbers, from
// the limits tenant and password hold a tenant's settings to: the form
// shows them and change checks them, so that a number out of range is
// named at its field rather than refused by UpdateTenant as a whole.
func limitsOfSettings() settingsLimits {
	return settingsLimits{
		MinLength:   numberRange{password.MinMinimumLength, password.MaxMinimumLength},
		HistorySize: numberRange{0, password.MaxHistorySize},
		TempDays:    numberRange{tenant.MinTempPasswordValidityDays, tenant.MaxTempPasswordValidityDays},
		MaxFailures: numberRange{tenant.MinLockoutFailures, tenant.MaxLockoutFailures},
		LockMinutes: numberRange{int(tenant.MinLockDuration / time.Minute), int(tenant.MaxLockDuration / time.Minute)},
	}
}

// settingsForm is the form's values as text, so a wrong value is shown
// back as it was typed.
type settingsForm struct {
	Name, Locale, LogoURL, Color      string
	AdminGroup                        string
	MFAMode                           string
	TOTP, WebAuthn                    bool
	MinLength, HistorySize            string
	Upper, Lower, Numbers, Symbols    bool
	TempDays, MaxFailures, LockMinute string
}

func formOf(t tenant.Tenant) settingsForm {
	s := t.Settings
	return settingsForm{
		Name: t.Name, Locale: s.Locale, LogoURL: s.Branding.LogoURL, Color: s.Branding.PrimaryColor,
		AdminGroup: s.AdminGroup, MFAMode: s.MFA.Mode, TOTP: slices.Contains(s.MFA.Factors, tenant.FactorTOTP),
		WebAuthn:  slices.Contains(s.MFA.Factors, tenant.FactorWebAuthn),
		MinLength: strconv.Itoa(s.PasswordPolicy.MinimumLength), HistorySize: strconv.Itoa(s.PasswordPolicy.HistorySize),
		Upper: s.PasswordPolicy.RequireUppercase, Lower: s.PasswordPolicy.RequireLowercase,
		Numbers: s.PasswordPolicy.RequireNumbers, Symbols: s.PasswordPolicy.RequireSymbols,
		TempDays: strconv.Itoa(s.TempPasswordValidityDays), MaxFailures: strconv.Itoa(s.Lockout.MaxFailures),
		LockMinute: strconv.Itoa(int(s.Lockout.LockDuration / time.Minute)),
	}
}

func readSettingsForm(f url.Values) settingsForm {
	on := func(k string) bool { return f.Get(k) == "on" }
	return settingsForm{
		Name: strings.TrimSpace(f.Get("name")), Locale: f.Get("locale"),
		LogoURL: strings.TrimSpace(f.Get("logo_url")), Color: strings.TrimSpace(f.Get("primary_color")),
		AdminGroup: f.Get("admin_group"), MFAMode: f.Get("mfa_mode"), TOTP: on("factor_totp"), WebAuthn: on("factor_webauthn"),
		MinLength: f.Get("min_length"), HistorySize: f.Get("history_size"),
		Upper: on("require_upper"), Lower: on("require_lower"), Numbers: on("require_numbers"), Symbols: on("require_symbols"),
		TempDays: f.Get("temp_days"), MaxFailures: f.Get("max_failures"), LockMinute: f.Get("lock_minutes"),
	}
}

// change checks the form and turns it into the change it asks for, to
// the tenant cur as it is. A field left as formOf showed it keeps cur's
// value, even where the form cannot show it exactly: the lock duration is
// kept in seconds, the form has whole minutes.
func (sf settingsForm) change(cur tenant.Tenant) (tenant.TenantChange, *formProblem) {
	var ch tenant.TenantChange
	limits := limitsOfSettings()
	number := func(field, raw string, r numberRange) (int, *formProblem) {
		n, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil || n < r.Min || n > r.Max {
			return 0, &formProblem{field: field, key: "problem.range." + field, args: []any{r.Min, r.Max}}
		}
		return n, nil
	}
	// The name is checked only when it changes, as UpdateTenant checks it
	// is free: a name stored before today's rule refused it stays as it is
	// while other settings change, rather than blocking every save with a
	// character the administrator cannot see in the field.
	if sf.Name != cur.Name {
		var hidden *tenant.HiddenInNameError
		switch err := tenant.ValidateTenantName(sf.Name); {
		case errors.As(err, &hidden):
			return ch, &formProblem{field: "name", key: "problem.orgNameHidden", args: []any{fmt.Sprintf("U+%04X", hidden.Char)}}
		case err != nil:
			return ch, &formProblem{field: "name", key: "problem.orgName"}
		}
		name := sf.Name
		ch.Name = &name
	}
	if !slices.Contains(tenant.Languages(), sf.Locale) {
		return ch, &formProblem{field: "locale", key: "problem.invalid"}
	}
	branding := tenant.Branding{LogoURL: sf.LogoURL, PrimaryColor: sf.Color}
	if sf.Color != "" && !tenant.ValidColor(sf.Color) {
		return ch, &formProblem{field: "primary_color", key: "problem.color", args: []any{sf.Color}}
	}
	if sf.LogoURL != "" && !tenant.ValidLogoURL(sf.LogoURL) {
		return ch, &formProblem{field: "logo_url", key: "problem.logo", args: []any{sf.LogoURL}}
	}
	// Whether the group exists, and whether the administrator is in it,
	// UpdateTenant checks in its transaction.
	if sf.AdminGroup == "" {
		return ch, &formProblem{field: "admin_group", key: "problem.invalid"}
	}
	if !slices.Contains(tenant.MFAModes(), sf.MFAMode) {
		return ch, &formProblem{field: "mfa_mode", key: "problem.invalid"}
	}
	var factors []string
	if sf.TOTP {
		factors = append(factors, tenant.FactorTOTP)
	}
	if sf.WebAuthn {
		factors = append(factors, tenant.FactorWebAuthn)
	}
	if len(factors) == 0 && sf.MFAMode != tenant.MFAOff {
		return ch, &formProblem{field: "factors", key: "problem.factors"}
	}
	minLength, prob := number("min_length", sf.MinLength, limits.MinLength)
	if prob != nil {
		return ch, prob
	}
	history, prob := number("history_size", sf.HistorySize, limits.HistorySize)
	if prob != nil {
		return ch, prob
	}
	days, prob := number("temp_days", sf.TempDays, limits.TempDays)
	if prob != nil {
		return ch, prob
	}
	failures, prob := number("max_failures", sf.MaxFailures, limits.MaxFailures)
	if prob != nil {
		return ch, prob
	}
	lockDuration := cur.Settings.Lockout.LockDuration
	if strings.TrimSpace(sf.LockMinute) != formOf(cur).LockMinute {
		minutes, prob := number("lock_minutes", sf.LockMinute, limits.LockMinutes)
		if prob != nil {
			return ch, prob
		}
		lockDuration = time.Duration(minutes) * time.Minute
	}
	policy := password.Policy{MinimumLength: minLength, HistorySize: history, RequireUppercase: sf.Upper,
		RequireLowercase: sf.Lower, RequireNumbers: sf.Numbers, RequireSymbols: sf.Symbols}
	mfa := tenant.MFAPolicy{Mode: sf.MFAMode, Factors: factors}
	lockout := tenant.LockoutPolicy{MaxFailures: failures, LockDuration: lockDuration}
	locale := sf.Locale
	adminGroup := sf.AdminGroup
	ch.Settings = tenant.SettingsChange{PasswordPolicy: tenant.SetPasswordPolicy(policy), TempPasswordValidityDays: &days, MFA: &mfa,
		Locale: &locale, Branding: &branding, Lockout: &lockout, AdminGroup: &adminGroup}
	return ch, nil
}

// sent is the settings form as posted (sent) beside the settings as they
// are now, field by field, for the list of a stale form.
func (p *settingsPage) sent(sent, now settingsForm) []unsaved {
	factors := func(sf settingsForm) string {
		var names []string
		if sf.TOTP {
			names = append(names, p.T("settings.factor.totp"))
		}
		if sf.WebAuthn {
			names = append(names, p.T("settings.factor.webauthn"))
		}
		return strings.Join(names, ", ")
	}
	mfa := func(mode string) string {
		switch mode {
		case tenant.MFAOff:
			return p.T("settings.mfa.off")
		case tenant.MFAOptional:
			return p.T("settings.mfa.optional")
		case tenant.MFARequired:
			return p.T("settings.mfa.on")
		}
		return mode
	}
	return []unsaved{
		{p.T("settings.name"), sent.Name, now.Name},
		{p.T("settings.language"), sent.Locale, now.Locale},
		{p.T("settings.logo"), sent.LogoURL, now.LogoURL},
		{p.T("settings.color"), sent.Color, now.Color},
		{p.T("settings.adminGroup"), sent.AdminGroup, now.AdminGroup},
		{p.T("settings.mfa"), mfa(sent.MFAMode), mfa(now.MFAMode)},
		{p.T("settings.factors"), factors(sent), factors(now)},
		{p.T("settings.minLength"), strings.TrimSpace(sent.MinLength), now.MinLength},
		{p.T("settings.history"), strings.TrimSpace(sent.HistorySize), now.HistorySize},
		{p.T("settings.tempDays"), strings.TrimSpace(sent.TempDays), now.TempDays},
		{p.T("settings.upper"), p.onOff(sent.Upper), p.onOff(now.Upper)},
		{p.T("settings.lower"), p.onOff(sent.Lower), p.onOff(now.Lower)},
		{p.T("settings.numbers"), p.onOff(sent.Numbers), p.onOff(now.Numbers)},
		{p.T("settings.symbols"), p.onOff(sent.Symbols), p.onOff(now.Symbols)},
		{p.T("settings.maxFailures"), strings.TrimSpace(sent.MaxFailures), now.MaxFailures},
		{p.T("settings.lockMinutes"), strings.TrimSpace(sent.LockMinute), now.LockMinute},
	}
}

func (c *Console) settingsForm(w http.ResponseWriter, r *http.Request, q *request) error {
	page, err := c.settingsPage(r, q, formOf(q.tenant))
	if err != nil {
		return err
	}
	page.Notice = notice(&page.frame, r)
	return c.render(w, http.StatusOK, page)
}

// settingsPage is the form with form's values, the groups the admin group
// may be, and the lock duration to the second when the minutes are not.
func (c *Console) settingsPage(r *http.Request, q *request, form settingsForm) (*settingsPage, error) {
	page := &settingsPage{frame: c.frame(q, "settings"), Form: form, Version: formVersion(formOf(q.tenant)), Invalid: map[string]bool{}}
	groups, err := c.Service.Groups(r.Context(), q.slug())
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		page.Groups = append(page.Groups, g.Name)
	}
	if d := q.tenant.Settings.Lockout.LockDuration; d%time.Minute != 0 {
		page.LockExact = page.Tf("settings.lockExact", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	return page, nil
}

// saveSettings saves the form. A form made from other settings than the
// tenant's now (formOf, its version) is refused and shown again with the
// settings as they are now (version.go): it would otherwise set back
// whatever changed meanwhile. The version being the tenant's, every field
// the administrator left alone holds the tenant's value, so the change
// sets again only what is already there besides what they changed.
func (c *Console) saveSettings(w http.ResponseWriter, r *http.Request, q *request) error {
	form := readSettingsForm(r.PostForm)
	stale := func(t tenant.Tenant) error {
		q.tenant = t // the page shows the tenant as it is now
		now := formOf(t)
		page, err := c.settingsPage(r, q, now)
		if err != nil {
			return err
		}
		page.refuseStale("problem.stale.settings", page.sent(form, now))
		return c.render(w, http.StatusConflict, page)
	}
	if staleForm(r.PostForm, formOf(q.tenant)) {
		return stale(q.tenant)
	}
	ch, prob := form.change(q.tenant)
	if prob == nil {
		// Keep MFA's other switches (passwordless sign-in) as they are:
		// this form does not show them.
		ch.Settings.MFA.Passwordless = q.tenant.Settings.MFA.Passwordless
		posted := r.PostForm.Get(versionField)
		ch.IfUnchanged = func(t tenant.Tenant) bool { return formVersion(formOf(t)) == posted }
		if _, err := c.Service.UpdateTenant(r.Context(), q.slug(), ch); err != nil {
			switch {
			case errors.Is(err, tenant.ErrNotFound):
				// The tenant itself, deleted since the request began.
				return &pageError{status: http.StatusNotFound, msg: "error.notFound", err: err}
			case errors.Is(err, tenant.ErrStale):
				// Changed between the request's read and the save.
				t, err := c.Service.Tenant(r.Context(), q.slug())
				if err != nil {
					return err
				}
				return stale(t)
			}
			if prob = formProblemOf(err); prob == nil {
				return err
			}
			var inv *tenant.InvalidError
			switch {
			case errors.Is(err, tenant.ErrAdminGroupWithoutActor):
				prob.field, prob.args = "admin_group", []any{form.AdminGroup}
			case errors.Is(err, tenant.ErrTenantNameTaken):
				prob.field = "name" // the service's text names the other tenant; this one does not
			case errors.As(err, &inv) && inv.Code == tenant.CodeGroupUnknown:
				prob.field = "admin_group" // deleted or renamed since the page was made
			case errors.As(err, &inv) && inv.Field == tenant.FieldAdminGroup:
				// A group named before today's rule for names, chosen
				// anew: the rule is said as the group forms say it. The
				// error names no value sent, and the log says it is
				// about the admin group.
				prob.field = "admin_group"
				noteResponse(w, "", err)
			}
		}
	}
	if prob != nil {
		page, err := c.settingsPage(r, q, form)
		if err != nil {
			return err
		}
		page.Invalid[prob.field] = true
		page.Problem = page.Tf(prob.key, prob.args...)
		return c.render(w, http.StatusUnprocessableEntity, page)
	}
	http.Redirect(w, r, "/admin/settings?notice=settings", http.StatusSeeOther)
	return nil
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/adminapi"
)

// The admin commands. Each declares its flags, makes one or two API calls
// and says how to show the answer. The API does the checking; a value
// whose rule the command line can know is also checked by the command's
// checkFunc, before the operator token is looked up and anything sent, so
// that the exit code is the command line's (2): a page size or a date in
// words naming the flag, and a value a rule of the tenant package judges
// alone (a slug, a group name, a redirect URI, an email address) by that
// rule itself (ruleRefusal), in the words the server would answer with.
// What depends on what the server holds (a tenant's password policy, a
// client's stored settings, whether a name is taken) is left to it.

// tenantPath is the admin API path of a tenant.
func tenantPath(slug string) (string, error) {
	seg, err := pathSegment("tenant slug", slug)
	return "/admin/v1/tenants/" + seg, err
}

func tenantCommands() []adminCommand {
	return []adminCommand{
		{
			verb: "create", args: []string{"SLUG"}, summary: "Create a tenant; SLUG is its subdomain.",
			setup: func(fs *flag.FlagSet, stdin io.Reader) (checkFunc, runFunc) {
				name := fs.String("name", "", "display name of the organization (default: the slug)")
				settings := addSettingsFlags(fs, stdin, forNewTenant)
				var change *adminapi.SettingsChange
				check := func(in invocation) (err error) {
					if err := tenant.ValidateSlug(in.args[0]); err != nil {
						return ruleRefusal(err)
					}
					if err := checkTenantName(*name); err != nil {
						return err
					}
					change, err = settings.change()
					return err
				}
				return check, func(ctx context.Context, c *apiClient, in invocation) (output, error) {
					var t adminapi.Tenant
					raw, err := c.call(ctx, http.MethodPost, "/admin/v1/tenants",
						adminapi.CreateTenantRequest{Slug: in.args[0], Name: *name, Settings: change}, &t)
					return output{raw: raw, text: func(w io.Writer) { showTenant(w, t) }}, err
				}
			},
		},
		{
			verb: "list", summary: "List the tenants.",
			setup: func(*flag.FlagSet, io.Reader) (checkFunc, runFunc) {
				return nil, func(ctx context.Context, c *apiClient, _ invocation) (output, error) {
					var list adminapi.TenantList
					raw, err := c.call(ctx, http.MethodGet, "/admin/v1/tenants", nil, &list)
					return output{raw: raw, text: func(w io.Writer) {
						if len(list.Tenants) == 0 {
							fmt.Fprintln(w, `No tenants yet. Create one with: cognate tenant create SLUG --name "NAME"`)
							return
						}
						var rows [][]string
						for _, t := range list.Tenants {
							rows = append(rows, []string{t.Slug, t.Name, t.Settings.MFA.Mode, formatTime(t.CreatedAt)})
						}
						printTable(w, []string{"SLUG", "NAME", "MFA", "CREATED"}, rows)
					}}, err
				}
			},
		},
		{
			verb: "get", args: []string{"SLUG"}, summary: "Show a tenant and its settings.",
			setup: func(*flag.FlagSet, io.Reader) (checkFunc, runFunc) {
				return nil, func(ctx context.Context, c *apiClient, in invocation) (output, error) {
					path, err := tenantPath(in.args[0])
					if err != nil {
						return output{}, err
					}
					var t adminapi.Tenant
					raw, err := c.call(ctx, http.MethodGet, path, nil, &t)
					return output{raw: raw, text: func(w io.Writer) { showTenant(w, t) }}, err
				}
			},
		},
		{
			verb: "update", args: []string{"SLUG"}, summary: "Rename a tenant or change its settings.",
			setup: func(fs *flag.FlagSet, stdin io.Reader) (checkFunc, runFunc) {
				name := fs.String("name", "", "new display name of the organization")
				settings := addSettingsFlags(fs, stdin, forTenantChange)
				var req adminapi.UpdateTenantRequest
				check := func(invocation) (err error) {
					if *name != "" {
						if err := checkTenantName(*name); err != nil {
							return err
						}
						req.Name = name
					}
					if req.Settings, err = settings.change(); err != nil {
						return err
					}
					if req.Name == nil && req.Settings == nil {
						return usageError{"nothing to change: give --name, --signing-alg, --admin-group or --settings"}
					}
					return nil
				}
				return check, func(ctx context.Context, c *apiClient, in invocation) (output, error) {
					path, err := tenantPath(in.args[0])
					if err != nil {
						return output{}, err
					}
					var t adminapi.Tenant
					raw, err := c.call(ctx, http.MethodPatch, path, req, &t)
					return output{raw: raw, text: func(w io.Writer) { showTenant(w, t) }}, err
				}
			},
		},
		{
			verb: "rotate-key", args: []string{"SLUG"},
			summary: "Make a new signing key, of the tenant's signing algorithm: published at once in the JWKS, signing after --overlap; --retire-previous withdraws the others at once.",
			setup: func(fs *flag.FlagSet, _ io.Reader) (checkFunc, runFunc) {
				overlap := time.Hour
				fs.Var(durationFlag{d: &overlap, name: "--overlap", max: adminapi.MaxKeyOverlap}, "overlap",
					"how long the new key is published before it signs, so that relying parties that cache the JWKS know it first (a `duration` in whole seconds, 0s to 168h; 0s with --retire-previous)")
				retirePrevious := fs.Bool("retire-previous", false,
					"the new key signs at once, and every other key leaves the JWKS now: tokens they signed stop verifying, instead of a day later")
				check := func(invocation) error {
					if *retirePrevious {
						if flagGiven(fs, "overlap") && overlap != 0 {
							return usageError{"--retire-previous makes a key that signs at once: leave out --overlap, or give 0s"}
						}
						overlap = 0
					}
					return nil
				}
				return check, func(ctx context.Context, c *apiClient, in invocation) (output, error) {
					path, err := tenantPath(in.args[0])
					if err != nil {
						return output{}, err
					}
					seconds := int64(overlap / time.Second)
					var k adminapi.SigningKey
					raw, err := c.call(ctx, http.MethodPost, path+"/keys/rotate",
						adminapi.RotateKeyRequest{OverlapSeconds: &seconds, RetirePrevious: *retirePrevious}, &k)
					return output{raw: raw, text: func(w io.Writer) {
						printFields(w,
							field("Key", k.KeyID),
							field("Algorithm", k.Alg),
							field("Signs from", formatTime(k.ActiveFrom)),
						)
						if *retirePrevious {
							fmt.Fprintln(w, "Every other key of the tenant is retired: out of its JWKS, and the tokens they signed no longer verify here.")
						}
					}}, err
				}
			},
		},
		{
			verb: "delete", args: []string{"SLUG"}, summary: "Delete a tenant with all its users, clients and keys.",
			setup: func(fs *flag.FlagSet, _ io.Reader) (checkFunc, runFunc) {
				yes := fs.Bool("yes", false, "confirm: this cannot be undone")
				check := func(in invocation) error {
					if !*yes {
						return usageError{fmt.Sprintf("deleting tenant %q removes all its users, clients and keys for good; add --yes to confirm", in.args[0])}
					}
					return nil
				}
				return check, func(ctx context.Context, c *apiClient, in invocation) (output, error) {
					path, err := tenantPath(in.args[0])
					if err != nil {
						return output{}, err
					}
					raw, err := c.call(ctx, http.MethodDelete, path, nil, nil)
					return message(raw, "Deleted tenant %s.", in.args[0]), err
				}
			},
		},
	}
}

// checkTenantName refuses a --name of a tenant by the tenant's rule, as the
// service reads it (without the spaces around it); "" is no name given.
func checkTenantName(name string) error {
	if name == "" {
		return nil
	}
	return ruleRefusal(tenant.ValidateTenantName(strings.TrimSpace(name)))
}

// settingsFlags are a tenant's settings on the command line: flags for the
// choices made most, and --settings for any other, as JSON in the admin
// API's shape (SettingsChange in docs/openapi.yaml). A flag wins over the
// same setting in the JSON.
type settingsFlags struct {
	signingAlg, adminGroup, json *string
	stdin                        io.Reader
	// usedFor is what the settings are: a new tenant's, or a change.
	usedFor settingsFor
}

// settingsFor is what a command's settings flags are for.
type settingsFor int

const (
	// forNewTenant: --admin-group is the group the tenant is made with,
	// chosen anew, whose name the rule for group names judges.
	forNewTenant settingsFor = iota
	// forTenantChange: --admin-group may name the admin group the tenant
	// has, which keeps a name an older version accepted (UpdateTenant):
	// only the server, which holds it, can tell.
	forTenantChange
)

func addSettingsFlags(fs *flag.FlagSet, stdin io.Reader, usedFor settingsFor) settingsFlags {
	return settingsFlags{
		signingAlg: fs.String("signing-alg", "", "token signing algorithm: RS256 (what apps built for Cognito verify) or ES256; on a change, the next key (tenant rotate-key) has it"),
		adminGroup: fs.String("admin-group", "", "the group whose members may use the tenant's admin console (on a change, the group must exist)"),
		json: fs.String("settings", "", `other settings as JSON, e.g. '{"mfa":{"mode":"OPTIONAL","factors":["TOTP","WEBAUTHN"]},"locale":"nl"}'; `+
			`"-" reads the JSON from standard input and @FILE from FILE, which keeps a legacy pool's secrets off the command line`),
		stdin:   stdin,
		usedFor: usedFor,
	}
}

// settingsJSON is the JSON of --settings: the value itself, or read from
// standard input ("-") or a file ("@FILE"), and where it was read from
// ("" for the value itself). A value given on the command line is seen by
// every user of the machine (ps) and kept in the shell's history, which a
// legacy pool's client_secret, admin_secret_access_key and webhook_secret
// must not be.
func (f settingsFlags) settingsJSON() (settings, from string, err error) {
	switch value := *f.json; {
	case value == "-":
		raw, err := io.ReadAll(f.stdin)
		if err != nil {
			return "", "", fmt.Errorf("reading --settings from standard input: %w", err)
		}
		if strings.TrimSpace(string(raw)) == "" {
			return "", "", errors.New("--settings -: standard input is empty; give the settings' JSON on it")
		}
		return string(raw), "standard input", nil
	case strings.HasPrefix(value, "@"):
		raw, err := os.ReadFile(value[1:])
		if err != nil {
			return "", "", fmt.Errorf("--settings %s: %w", value, pathProblem(err))
		}
		return string(raw), value[1:], nil
	}
	return *f.json, "", nil
}

// change is the settings the flags give, or nil when they give none.
func (f settingsFlags) change() (*adminapi.SettingsChange, error) {
	var change adminapi.SettingsChange
	settings, from, err := f.settingsJSON()
	if err != nil {
		return nil, err
	}
	if settings != "" {
		dec := json.NewDecoder(strings.NewReader(settings))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&change); err != nil {
			return nil, valueError(from, "--settings is not a settings object: "+err.Error())
		}
		if dec.More() {
			return nil, valueError(from, "--settings has more than one JSON value")
		}
	}
	if *f.signingAlg != "" {
		change.SigningAlg = f.signingAlg
	}
	if *f.adminGroup != "" {
		change.AdminGroup = f.adminGroup
	}
	if err := f.flagProblems(); err != nil {
		return nil, err
	}
	if change == (adminapi.SettingsChange{}) {
		return nil, nil
	}
	return &change, nil
}

// flagProblems is what the tenant's rules refuse of --signing-alg and,
// for a new tenant, --admin-group: tenant.ValidateSettings, which the
// server applies too, applied to what the flags make of the defaults, so
// that it finds their problems alone. The values inside --settings are
// the server's to judge, and so is the admin group a change names
// (forTenantChange).
func (f settingsFlags) flagProblems() error {
	var change tenant.SettingsChange
	if *f.signingAlg != "" {
		change.SigningAlg = f.signingAlg
	}
	if *f.adminGroup != "" && f.usedFor == forNewTenant {
		change.AdminGroup = f.adminGroup
	}
	return ruleRefusal(tenant.ValidateSettings(change.Apply(tenant.Settings{})))
}

func showTenant(w io.Writer, t adminapi.Tenant) {
	s := t.Settings
	p := s.PasswordPolicy
	var needs []string
	for _, r := range []struct {
		on   bool
		what string
	}{{p.RequireUppercase, "uppercase"}, {p.RequireLowercase, "lowercase"}, {p.RequireNumbers, "number"}, {p.RequireSymbols, "symbol"}} {
		if r.on {
			needs = append(needs, r.what)
		}
	}
	policy := fmt.Sprintf("at least %d characters", p.MinimumLength)
	if len(needs) > 0 {
		policy += "; needs " + strings.Join(needs, ", ")
	}
	switch p.HistorySize {
	case 0:
	case 1:
		policy += "; not the current password again"
	default:
		policy += fmt.Sprintf("; none of the last %d passwords", p.HistorySize)
	}
	printFields(w,
		field("Tenant", t.Slug),
		field("Name", t.Name),
		field("Password policy", policy),
		field("MFA", s.MFA.Mode+" ("+strings.Join(s.MFA.Factors, ", ")+")"),
		field("Language", s.Locale),
		field("Signing", s.SigningAlg),
		field("Admin group", s.AdminGroup),
		field("Created", formatTime(t.CreatedAt)),
	)
}

func clientCommands() []adminCommand {
	return []adminCommand{
		{
			verb: "create", summary: "Register a relying party (an application) with a tenant.",
			needsTenant: true, required: []string{"name"},
			setup: func(fs *flag.FlagSet, _ io.Reader) (checkFunc, runFunc) {
				name := fs.String("name", "", "name of the application (required)")
				public := fs.Bool("public", false, "a public client (browser or native app): no secret, PKCE instead")
				var redirects, logouts, grants, scopes stringList
				fs.Var(&redirects, "redirect-uri", "redirect URI after sign-in (repeatable)")
				fs.Var(&logouts, "logout-uri", "redirect URI after sign-out (repeatable)")
				fs.Var(&grants, "grant", "grant type: authorization_code, refresh_token, client_credentials (repeatable; default the first two)")
				fs.Var(&scopes, "scope", "scope the client may ask for (repeatable; default openid email profile phone aws.cognito.signin.user.admin)")
				ttls := addLifetimeFlags(fs)
				check := func(invocation) error {
					// The lists left out are the new client's, empty,
					// but for the grant types and scopes, which are then
					// the server's defaults.
					d := clientDraft{
						client: tenant.Client{Name: strings.TrimSpace(*name), RedirectURIs: redirects, PostLogoutRedirectURIs: logouts,
							GrantTypes: grants, Scopes: scopes},
						known: []string{tenant.FieldName, tenant.FieldPublic, tenant.FieldRedirectURIs, tenant.FieldLogoutURIs},
					}
					if !*public {
						d.client.SecretHash = "set" // a client without one is public (tenant.Client.Public)
					}
					if len(grants) > 0 {
						d.known = append(d.known, tenant.FieldGrantTypes)
					}
					if len(scopes) > 0 {
						d.known = append(d.known, tenant.FieldScopes)
					}
					ttls.draft(&d)
					return d.problems()
				}
				return check, func(ctx context.Context, c *apiClient, in invocation) (output, error) {
					path, err := tenantPath(in.tenant)
					if err != nil {
						return output{}, err
					}
					var cl adminapi.ClientWithSecret
					raw, err := c.call(ctx, http.MethodPost, path+"/clients", adminapi.CreateClientRequest{
						Name: *name, Public: *public, RedirectURIs: redirects, PostLogoutRedirectURIs: logouts,
						GrantTypes: grants, Scopes: scopes,
						// Left out, a lifetime is 0: the API's default.
						AccessTokenTTLSeconds:  ttls.access.orZero(),
						IDTokenTTLSeconds:      ttls.id.orZero(),
						RefreshTokenTTLSeconds: ttls.refresh.orZero(),

						RefreshTokenRetryGraceSeconds: ttls.retryGrace.orZero(),
					}, &cl)
					return output{raw: raw, text: func(w io.Writer) { showClient(w, cl.Client, cl.ClientSecret) }}, err
				}
			},
		},
		{
			verb: "list", summary: "List a tenant's clients.", needsTenant: true,
			setup: func(*flag.FlagSet, io.Reader) (checkFunc, runFunc) {
				return nil, func(ctx context.Context, c *apiClient, in invocation) (output, error) {
					path, err := tenantPath(in.tenant)
					if err != nil {
						return output{}, err
					}
					var list adminapi.ClientList
					raw, err := c.call(ctx, http.MethodGet, path+"/clients", nil, &list)
					return output{raw: raw, text: func(w io.Writer) {
						if len(list.Clients) == 0 {
							fmt.Fprintf(w, "Tenant %s has no clients yet. Create one with: cognate client create --tenant %s --name NAME --redirect-uri URL\n", in.tenant, in.tenant)
							return
						}
						var rows [][]string
						for _, cl := range list.Clients {
							rows = append(rows, []string{cl.ClientID, cl.Name, clientType(cl), strings.Join(cl.RedirectURIs, " ")})
						}
						printTable(w, []string{"CLIENT ID", "NAME", "TYPE", "REDIRECT URIS"}, rows)
					}}, err
				}
			},
		},
		{
			verb: "get", args: []string{"CLIENT_ID"}, summary: "Show a client.", needsTenant: true,
			setup: func(*flag.FlagSet, io.Reader) (checkFunc, runFunc) {
				return nil, func(ctx context.Context, c *apiClient, in invocation) (output, error) {
					path, err := clientPath(in.tenant, in.args[0])
					if err != nil {
						return output{}, err
					}
					var cl adminapi.Client
					raw, err := c.call(ctx, http.MethodGet, path, nil, &cl)
					return output{raw: raw, text: func(w io.Writer) { showClient(w, cl, "") }}, err
				}
			},
		},
		{
			verb: "update", args: []string{"CLIENT_ID"}, needsTenant: true,
			summary: "Rename a client, replace its redirect or logout URIs, grant types or scopes, or change its token lifetimes (for tokens issued from then on).",
			setup: func(fs *flag.FlagSet, _ io.Reader) (checkFunc, runFunc) {
				name := fs.String("name", "", "new name of the application")
				var redirects, logouts stringList
				fs.Var(&redirects, "redirect-uri", "redirect URI after sign-in (repeatable; replaces the list)")
				fs.Var(&logouts, "logout-uri", `redirect URI after sign-out (repeatable; replaces the list; --logout-uri "" removes them all)`)
				var grants, scopes stringList
				fs.Var(&grants, "grant", "grant type: authorization_code, refresh_token, client_credentials (repeatable; replaces the list; one taken away is refused at once, also for refresh tokens issued before)")
				fs.Var(&scopes, "scope", `scope the client may ask for (repeatable; replaces the list; --scope "" removes them all)`)
				ttls := addLifetimeFlags(fs)
				var req adminapi.UpdateClientRequest
				check := func(invocation) error {
					req = adminapi.UpdateClientRequest{
						RedirectURIs:           redirects.replacement(),
						PostLogoutRedirectURIs: logouts.replacement(),
						GrantTypes:             grants.replacement(),
						Scopes:                 scopes.replacement(),
						AccessTokenTTLSeconds:  ttls.access.seconds,
						IDTokenTTLSeconds:      ttls.id.seconds,
						RefreshTokenTTLSeconds: ttls.refresh.seconds,

						RefreshTokenRetryGraceSeconds: ttls.retryGrace.seconds,
					}
					if *name != "" {
						req.Name = name
					}
					if req == (adminapi.UpdateClientRequest{}) {
						return usageError{"nothing to change: give --name, --redirect-uri, --logout-uri, --grant, --scope, --access-token-ttl, --id-token-ttl, --refresh-token-ttl or --refresh-retry-grace"}
					}
					var d clientDraft
					if req.Name != nil {
						d.client.Name = strings.TrimSpace(*req.Name)
						d.known = append(d.known, tenant.FieldName)
					}
					for _, l := range []struct {
						part  string
						given *[]string
						field *[]string
					}{
						{tenant.FieldRedirectURIs, req.RedirectURIs, &d.client.RedirectURIs},
						{tenant.FieldLogoutURIs, req.PostLogoutRedirectURIs, &d.client.PostLogoutRedirectURIs},
						{tenant.FieldGrantTypes, req.GrantTypes, &d.client.GrantTypes},
						{tenant.FieldScopes, req.Scopes, &d.client.Scopes},
					} {
						if l.given != nil {
							*l.field = *l.given
							d.known = append(d.known, l.part)
						}
					}
					ttls.draft(&d)
					return d.problems()
				}
				return check, func(ctx context.Context, c *apiClient, in invocation) (output, error) {
					path, err := clientPath(in.tenant, in.args[0])
					if err != nil {
						return output{}, err
					}
					var cl adminapi.Client
					raw, err := c.call(ctx, http.MethodPatch, path, req, &cl)
					return output{raw: raw, text: func(w io.Writer) { showClient(w, cl, "") }}, err
				}
			},
		},
		{
			verb: "delete", args: []string{"CLIENT_ID"}, summary: "Delete a client; its tokens stop working.", needsTenant: true,
			setup: func(*flag.FlagSet, io.Reader) (checkFunc, runFunc) {
				return nil, func(ctx context.Context, c *apiClient, in invocation) (output, error) {
					path, err := clientPath(in.tenant, in.args[0])
					if err != nil {
						return output{}, err
					}
					raw, err := c.call(ctx, http.MethodDelete, path, nil, nil)
					return message(raw, "Deleted client %s of tenant %s.", in.args[0], in.tenant), err
				}
			},
		},
		{
			verb: "rotate-secret", args: []string{"CLIENT_ID"}, summary: "Give a confidential client a new secret; the old one stops working at once.",
			needsTenant: true,
			setup: func(*flag.FlagSet, io.Reader) (checkFunc, runFunc) {
				return nil, func(ctx context.Context, c *apiClient, in invocation) (output, error) {
					path, err := clientPath(in.tenant, in.args[0])
					if err != nil {
						return output{}, err
					}
					var cl adminapi.ClientWithSecret
					raw, err := c.call(ctx, http.MethodPost, path+"/secret", nil, &cl)
					return output{raw: raw, text: func(w io.Writer) { showClient(w, cl.Client, cl.ClientSecret) }}, err
				}
			},
		},
	}
}

// clientDraft is a client as far as a command line (client create, client
// update) gives it, for the rules of tenant.ValidateClient: known names the
// parts its flags set (tenant.Field…). A part not known is the server's
// default or the client's stored value, which the command line cannot see.
type clientDraft struct {
	client tenant.Client
	known  []string
}

// problems is what tenant.ValidateClient refuses of the draft by the rules
// that look at known parts alone (each refusal names the parts it looked
// at), in the words of the server's refusal (which may name more, about
// parts the command line does not know).
func (d clientDraft) problems() error {
	var all tenant.InvalidErrors
	if !errors.As(tenant.ValidateClient(d.client), &all) {
		return nil
	}
	unknown := func(part string) bool { return !slices.Contains(d.known, part) }
	var judged tenant.InvalidErrors
	for _, e := range all {
		if len(e.Parts) > 0 && !slices.ContainsFunc(e.Parts, unknown) {
			judged = append(judged, e)
		}
	}
	if len(judged) == 0 {
		return nil
	}
	return ruleRefusal(judged)
}

// clientPath is the admin API path of a tenant's client.
func clientPath(slug, id string) (string, error) {
	tenant, err := tenantPath(slug)
	if err != nil {
		return "", err
	}
	seg, err := pathSegment("client ID", id)
	return tenant + "/clients/" + seg, err
}

func clientType(c adminapi.Client) string {
	if c.Public {
		return "public"
	}
	return "confidential"
}

func showClient(w io.Writer, c adminapi.Client, secret string) {
	printFields(w,
		field("Client ID", c.ClientID),
		field("Client secret", secret),
		field("Name", c.Name),
		field("Type", clientType(c)),
		field("Redirect URIs", strings.Join(c.RedirectURIs, " ")),
		field("Logout URIs", strings.Join(c.PostLogoutRedirectURIs, " ")),
		field("Grant types", strings.Join(c.GrantTypes, " ")),
		field("Scopes", strings.Join(c.Scopes, " ")),
		field("Access tokens", formatLifetime(c.AccessTokenTTLSeconds)),
		field("ID tokens", formatLifetime(c.IDTokenTTLSeconds)),
		field("Refresh tokens", formatLifetime(c.RefreshTokenTTLSeconds)),
		field("Retry grace", formatGrace(c.RefreshTokenRetryGraceSeconds)),
		field("Created", formatTime(c.CreatedAt)),
	)
	if secret != "" {
		fmt.Fprintln(w, "\nStore the client secret now: it is shown only this once.")
	}
}

// replacement is a repeatable URI flag of an update as the list that
// replaces the client's: nil when the flag was not given, and without the
// empty values, so that a lone "" asks for an empty list.
func (l stringList) replacement() *[]string {
	if l == nil {
		return nil
	}
	out := []string{}
	for _, v := range l {
		if v != "" {
			out = append(out, v)
		}
	}
	return &out
}

// lifetimeFlags are a client's token lifetimes on the command line, and
// its refresh retry grace period.
type lifetimeFlags struct{ access, id, refresh, retryGrace lifetimeFlag }

func addLifetimeFlags(fs *flag.FlagSet) *lifetimeFlags {
	f := lifetimeFlags{retryGrace: lifetimeFlag{zeroAllowed: true}}
	fs.Var(&f.access, "access-token-ttl", "lifetime of access tokens, 5m to 24h, e.g. 15m (a new client gets 1h)")
	fs.Var(&f.id, "id-token-ttl", "lifetime of ID tokens, 5m to 24h (a new client gets 1h)")
	fs.Var(&f.refresh, "refresh-token-ttl", "lifetime of refresh tokens, 1h to 87600h (a new client gets 720h, 30 days)")
	fs.Var(&f.retryGrace, "refresh-retry-grace", "how long a used refresh token may be used again, 0s to 60s, e.g. 30s, for clients that retry a refresh whose answer was lost (a new client gets 0s: any second use revokes the session)")
	return &f
}

// draft sets the lifetimes given on d's client, as known parts.
func (f *lifetimeFlags) draft(d *clientDraft) {
	for _, l := range []struct {
		flag  *lifetimeFlag
		field *time.Duration
		part  string
	}{
		{&f.access, &d.client.AccessTokenTTL, tenant.FieldAccessTokenTTL},
		{&f.id, &d.client.IDTokenTTL, tenant.FieldIDTokenTTL},
		{&f.refresh, &d.client.RefreshTokenTTL, tenant.FieldRefreshTokenTTL},
		{&f.retryGrace, &d.client.RefreshRetryGrace, tenant.FieldRefreshRetryGrace},
	} {
		if l.flag.seconds != nil {
			*l.field = time.Duration(*l.flag.seconds) * time.Second
			d.known = append(d.known, l.part)
		}
	}
}

// lifetimeFlag is a token lifetime given as a Go duration (15m, 720h) and
// sent as the whole seconds the admin API takes. What cannot be a count of
// seconds is refused here; the range is the tenant's rule, which the
// command's check applies (clientDraft). Only a grace period (zeroAllowed)
// may be 0.
type lifetimeFlag struct {
	seconds     *int64
	zeroAllowed bool
}

func (f *lifetimeFlag) String() string {
	if f.seconds == nil {
		return ""
	}
	return formatLifetime(*f.seconds)
}

func (f *lifetimeFlag) Set(v string) error {
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		return errors.New("not a duration: write it as 15m, 1h or 720h")
	case f.zeroAllowed && (d < 0 || d%time.Second != 0):
		return errors.New("a grace period must be 0 or a positive whole number of seconds")
	case !f.zeroAllowed && (d <= 0 || d%time.Second != 0):
		return errors.New("a lifetime must be a positive whole number of seconds")
	}
	n := int64(d / time.Second)
	f.seconds = &n
	return nil
}

// durationFlag is a flag of a Go duration that the admin API takes as
// whole seconds from 0 to max. Its errors, unlike the flag package's own
// "parse error", say how a duration is written, and the range in the
// flag's terms: a fraction of a second is refused rather than cut off,
// which would make 500ms an overlap of none.
type durationFlag struct {
	d    *time.Duration
	name string // as the person typed it: --overlap
	max  time.Duration
}

func (f durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Set(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		return errors.New("not a duration: write it as 30m, 1h or 168h (hours are the largest unit: 168h is a week)")
	}
	if d < 0 || d > f.max || d%time.Second != 0 {
		return fmt.Errorf("%s must be from 0s to %s, in whole seconds", f.name, formatLifetime(int64(f.max/time.Second)))
	}
	*f.d = d
	return nil
}

// orZero is the lifetime in seconds, or 0 when the flag was not given.
func (f *lifetimeFlag) orZero() int64 {
	if f.seconds == nil {
		return 0
	}
	return *f.seconds
}

// formatLifetime shows seconds as the flags take them: 15m, 1h30m, 720h
// (with the days, when there are several).
func formatLifetime(seconds int64) string {
	if seconds == 0 {
		return ""
	}
	const day = 24 * time.Hour
	d := time.Duration(seconds) * time.Second
	// Duration.String writes 1h0m0s; the zero units say nothing.
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	if d > day && d%day == 0 {
		s += fmt.Sprintf(" (%d days)", d/day)
	}
	return s
}

// formatGrace shows a refresh retry grace period, whose 0 means none.
func formatGrace(seconds int64) string {
	if seconds == 0 {
		return "none (a second use of a refresh token ends the session)"
	}
	return formatLifetime(seconds)
}

// oneUserCommand is a `cognate user` verb on one user, named by username or
// sub: do gets the user's admin API path and the name as typed.
func oneUserCommand(verb, summary string, do func(ctx context.Context, c *apiClient, path, user string) (output, error)) adminCommand {
	return adminCommand{
		verb: verb, args: []string{"USER"}, summary: summary + " USER is a username or a sub.", needsTenant: true,
		setup: func(*flag.FlagSet, io.Reader) (checkFunc, runFunc) {
			return nil, func(ctx context.Context, c *apiClient, in invocation) (output, error) {
				path, err := resolveUserPath(ctx, c, in.tenant, in.args[0])
				if err != nil {
					return output{}, err
				}
				return do(ctx, c, path, in.args[0])
			}
		},
	}
}

func userCommands() []adminCommand {
	setEnabled := func(enabled bool) func(ctx context.Context, c *apiClient, path, user string) (output, error) {
		return func(ctx context.Context, c *apiClient, path, user string) (output, error) {
			var u adminapi.User
			raw, err := c.call(ctx, http.MethodPatch, path, adminapi.UpdateUserRequest{Enabled: &enabled}, &u)
			return output{raw: raw, text: func(w io.Writer) { showUser(w, u) }}, err
		}
	}

	return []adminCommand{
		{
			verb: "create", summary: "Add a user to a tenant. Without --password or --invite the user is not activated and cannot sign in yet.",
			needsTenant: true, required: []string{"username"},
			setup: func(fs *flag.FlagSet, stdin io.Reader) (checkFunc, runFunc) {
				username := fs.String("username", "", "username (required)")
				email := fs.String("email", "", "email address")
				verified := fs.Bool("email-verified", false, "mark the email address as verified")
				pw := fs.String("password", "", `password ("-" reads it from standard input)`)
				temporary := fs.Bool("temporary", false, "the password must be changed at the first sign-in")
				invite := fs.Bool("invite", false, "activate the user at once: mail them a temporary password (needs --email)")
				var attrs stringList
				fs.Var(&attrs, "attribute", "attribute NAME=VALUE, e.g. given_name=Ann or custom:team=ops (repeatable)")
				var password string
				attributes := map[string]string{}
				check := func(invocation) (err error) {
					switch {
					case *temporary && *pw == "":
						return usageError{"--temporary needs --password"}
					case *invite && *pw != "":
						return usageError{"--invite mails a temporary password of its own; give no --password"}
					case *invite && *email == "":
						return usageError{"--invite needs --email, where the welcome mail goes"}
					}
					for _, a := range attrs {
						name, value, ok := strings.Cut(a, "=")
						if !ok {
							return usageError{fmt.Sprintf("--attribute %q: want NAME=VALUE", a)}
						}
						attributes[name] = value
					}
					// The service's own check of a new user.
					nu := tenant.NewUser{Username: *username, Email: *email, EmailVerified: *verified, Attributes: attributes}
					if err := nu.Validate(); err != nil {
						return ruleRefusal(err)
					}
					password, err = readPassword(*pw, stdin)
					return err
				}
				return check, func(ctx context.Context, c *apiClient, in invocation) (output, error) {
					path, err := tenantPath(in.tenant)
					if err != nil {
						return output{}, err
					}
					var u adminapi.User
					raw, err := c.call(ctx, http.MethodPost, path+"/users", adminapi.CreateUserRequest{
						Username: *username, Email: *email, EmailVerified: *verified, Attributes: attributes,
						Password: password, Temporary: *temporary, Invite: *invite,
					}, &u)
					return output{raw: raw, text: func(w io.Writer) { showUser(w, u) }}, err
				}
			},
		},
		userListing{
			verb: "list", summary: "List a tenant's users, a page at a time.", noun: "users",
			path: func(slug string, _ []string) (string, error) {
				path, err := tenantPath(slug)
				return path + "/users", err
			},
			empty: func(slug string, _ []string) string {
				return "No users. Add one with: cognate user create --tenant " + slug + " --username NAME"
			},
			more: func(slug string) string { return "cognate user list --tenant " + slug },
		}.command(),
		oneUserCommand("get", "Show a user.", func(ctx context.Context, c *apiClient, path, _ string) (output, error) {
			var u adminapi.User
			raw, err := c.call(ctx, http.MethodGet, path, nil, &u)
			return output{raw: raw, text: func(w io.Writer) { showUser(w, u) }}, err
		}),
		{
			verb: "set-password", args: []string{"USER"}, needsTenant: true, required: []string{"password"},
			summary: "Set a user's password: temporary (changed at the next sign-in) unless --permanent. USER is a username or a sub.",
			setup: func(fs *flag.FlagSet, stdin io.Reader) (checkFunc, runFunc) {
				pw := fs.String("password", "", `the new password (required; "-" reads it from standard input)`)
				permanent := fs.Bool("permanent", false, "the user keeps this password (status CONFIRMED)")
				var password string
				check := func(invocation) (err error) {
					password, err = readPassword(*pw, stdin)
					return err
				}
				return check, func(ctx context.Context, c *apiClient, in invocation) (output, error) {
					path, err := resolveUserPath(ctx, c, in.tenant, in.args[0])
					if err != nil {
						return output{}, err
					}
					raw, err := c.call(ctx, http.MethodPost, path+"/password", adminapi.SetPasswordRequest{Password: password, Permanent: *permanent}, nil)
					if *permanent {
						return message(raw, "Password of %s set.", in.args[0]), err
					}
					return message(raw, "Temporary password of %s set: it must be changed at the next sign-in.", in.args[0]), err
				}
			},
		},
		oneUserCommand("disable", "Keep a user from signing in.", setEnabled(false)),
		oneUserCommand("enable", "Let a disabled user sign in again.", setEnabled(true)),
		oneUserCommand("delete", "Delete a user.", func(ctx context.Context, c *apiClient, path, user string) (output, error) {
			raw, err := c.call(ctx, http.MethodDelete, path, nil, nil)
			return message(raw, "Deleted user %s.", user), err
		}),
	}
}

// userListing is a verb that lists users a page at a time: `user list`
// and `group members`.
type userListing struct {
	verb, summary string
	args          []string
	noun          string // what the users are, for the next page's hint: "users", "members"
	// path is the API path of the list; empty is the text for a list with
	// no users; more is the command line of the next page, before its
	// --limit and --after (and args, which follow them).
	path  func(slug string, args []string) (string, error)
	empty func(slug string, args []string) string
	more  func(slug string) string
}

func (l userListing) command() adminCommand {
	return adminCommand{
		verb: l.verb, args: l.args, summary: l.summary, needsTenant: true,
		setup: func(fs *flag.FlagSet, _ io.Reader) (checkFunc, runFunc) {
			limit := fs.Int("limit", 50, fmt.Sprintf("%s per page, 1 to %d", l.noun, tenant.MaxPageSize))
			after := fs.String("after", "", "start after this sub (from the previous page)")
			check := func(invocation) error { return checkLimit(*limit, tenant.MaxPageSize) }
			return check, func(ctx context.Context, c *apiClient, in invocation) (output, error) {
				path, err := l.path(in.tenant, in.args)
				if err != nil {
					return output{}, err
				}
				q := url.Values{"limit": {strconv.Itoa(*limit)}}
				if *after != "" {
					q.Set("after", *after)
				}
				var page adminapi.UserPage
				raw, err := c.call(ctx, http.MethodGet, path+"?"+q.Encode(), nil, &page)
				return output{raw: raw, text: func(w io.Writer) {
					switch {
					case len(page.Users) == 0 && *after != "":
						// A page past the last: the list itself may be long.
						fmt.Fprintf(w, "No more %s after %s.\n", l.noun, *after)
						return
					case len(page.Users) == 0:
						fmt.Fprintln(w, l.empty(in.tenant, in.args))
						return
					}
					var rows [][]string
					for _, u := range page.Users {
						rows = append(rows, []string{u.Username, u.Email, u.Status, yesNo(u.Enabled), u.Sub})
					}
					printTable(w, []string{"USERNAME", "EMAIL", "STATUS", "ENABLED", "SUB"}, rows)
					if page.Next != "" {
						next := strings.Join(append([]string{l.more(in.tenant), "--limit", strconv.Itoa(*limit), "--after", page.Next}, quoted(in.args)...), " ")
						fmt.Fprintf(w, "\nMore %s: %s\n", l.noun, next)
					}
				}}, err
			}
		},
	}
}

// resolveUser finds the sub of a username; anything that is not a username
// is taken to be a sub, and the API says so if it is not one either. A name
// that is one user's username and another's sub (an imported username, or
// one chosen to look like a sub) is refused rather than guessed at: the
// command might delete or reset the wrong person.
func resolveUser(ctx context.Context, c *apiClient, slug, user string) (string, error) {
	if user == "" {
		return "", errors.New("USER is empty: give a username or a sub")
	}
	base, err := tenantPath(slug)
	if err != nil {
		return "", err
	}
	var page adminapi.UserPage
	if _, err := c.call(ctx, http.MethodGet, base+"/users?username="+url.QueryEscape(user), nil, &page); err != nil {
		return "", err
	}
	if len(page.Users) != 1 {
		return user, nil
	}
	byName := page.Users[0]
	if byName.Sub == user {
		return user, nil
	}
	// Asked as a search, which answers "none" with an empty list: a GET of
	// the user would be a 404 that the server logs as a refused request.
	var bySub adminapi.UserPage
	if _, err := c.call(ctx, http.MethodGet, base+"/users?sub="+url.QueryEscape(user), nil, &bySub); err != nil {
		return "", err
	}
	if len(bySub.Users) == 0 {
		return byName.Sub, nil
	}
	return "", fmt.Errorf("%q is the username of one user (sub %s) and the sub of another (username %s): name the user you mean by their sub",
		user, byName.Sub, bySub.Users[0].Username)
}

// userPath is the admin API path of the user with sub, named user on the
// command line.
func userPath(slug, sub, user string) (string, error) {
	base, err := tenantPath(slug)
	if err != nil {
		return "", err
	}
	seg, err := userSegment(sub, user)
	return base + "/users/" + seg, err
}

// userSegment is sub as a path segment, named user on the command line.
func userSegment(sub, user string) (string, error) {
	what := "sub"
	if sub != user {
		what = fmt.Sprintf("sub of user %q", user)
	}
	return pathSegment(what, sub)
}

// resolveUserPath is the admin API path of USER, a username or a sub.
func resolveUserPath(ctx context.Context, c *apiClient, slug, user string) (string, error) {
	sub, err := resolveUser(ctx, c, slug, user)
	if err != nil {
		return "", err
	}
	return userPath(slug, sub, user)
}

// readPassword returns the flag's value, or with "-" the first line of
// standard input, which keeps the password out of the shell history.
func readPassword(flagValue string, stdin io.Reader) (string, error) {
	if flagValue != "-" {
		return flagValue, nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on standard input")
	}
	return line, nil
}

func showUser(w io.Writer, u adminapi.User) {
	email := u.Email
	if email != "" && !u.EmailVerified {
		email += " (unverified)"
	}
	fields := [][2]string{
		field("Username", u.Username),
		field("Sub", u.Sub),
		field("Email", email),
		field("Status", u.Status),
		field("Enabled", yesNo(u.Enabled)),
		field("Groups", strings.Join(u.Groups, ", ")),
		field("Temporary password expires", formatTime(u.TempPasswordExpiresAt)),
		field("Created", formatTime(u.CreatedAt)),
		field("Last sign-in", formatTime(u.LastSignInAt)),
	}
	for _, name := range slices.Sorted(maps.Keys(u.Attributes)) {
		fields = append(fields, field(name, u.Attributes[name]))
	}
	printFields(w, fields...)
}

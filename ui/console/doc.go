// Package console is a tenant's admin console, served under /admin on the
// tenant's own host: the users module (list, search, profile, edit, the
// activation toggle, invitations, password and MFA resets, unlock,
// delete), groups, clients, the tenant's settings, the audit trail and the
// import of a Cognito export (CSV or JSON).
//
// The console is an ordinary OpenID Connect client of its tenant (the
// built-in public client tenant.ConsoleClientID, with PKCE): it sends the
// administrator through the tenant's own sign-in, exchanges the code with
// the provider in-process and verifies the ID token with the tenant's
// keys, then keeps a short server-side session of its own. Every request
// reads the administrator again: enabled, in the tenant's admin group, and
// signed in with MFA when the tenant asks for it.
//
// Every change goes through tenant.Service, the same methods the
// operator's admin API calls, with the administrator as the audit actor;
// nothing about what a valid change is lives here (the settings form checks
// its numbers and choices, to name the field, against the limits tenant
// exports for its own check). Pages are server-rendered
// html/template files embedded in the binary, checked at start-up against
// the English and Dutch catalogue, and work without their small script.
//
// The tenant comes from the Host alone (provider.Site): no URL or form
// field names a tenant, so an administrator of one tenant can reach
// nothing of another. This package knows nothing of storage backends or of
// zitadel/oidc; it uses ui only to render as the sign-in pages do: their
// page set (ui.PageSet, ParsePages, PageBlocks, WritePage) and the few
// things ui/shared.go exports.
package console

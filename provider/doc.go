// Package provider adapts Cognate's tenants to zitadel/oidc's OpenID
// Provider: one issuer per tenant subdomain, chosen by Host, with per-tenant
// clients, signing keys, auth requests, codes, tokens and SSO sessions.
//
// zitadel/oidc types stop here: the rest of Cognate sees tenant types and
// the small LoginRequest/Session API of this package. No business rule lives
// inside an op callback; rules about users live in tenant and tenant/auth.
// This package must not import ui.
package provider

// Package tenant is Cognate's domain: tenants (one per organization and
// subdomain), their user pools, groups, clients and signing keys, and the
// Service that every front end (admin API, console, CLI) calls to change
// them.
//
// Storage is the Store interface in store.go; backends live in
// sub-packages (tenant/bolt) and pass the conformance suite in
// tenant/storetest. This package must not import net/http, provider, ui or a
// storage backend: it knows nothing of how it is served or stored.
package tenant

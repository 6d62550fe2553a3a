// Package ui serves Cognate's pages for people: "find your organization" on
// the apex, and on each tenant's host the sign-in pages that drive the
// authentication state machine (tenant/auth) and hand the result to the
// OpenID provider (provider).
//
// Pages are html/template files embedded in the binary, parsed and checked
// when New runs (a missing template, or a message key no catalogue holds,
// fails start-up), and rendered into a buffer before a byte reaches the
// client. Every sentence a person reads comes from the English or Dutch
// message catalogue in this package, never from an error's text.
//
// ui knows the provider's small page API (Hosts, LoginRequest, Session,
// SetSessionCookie, BindBrowser, CompleteLogin, FailLogin, EndSession), the
// state machine's outcomes and the tenant service; it knows nothing of
// storage records or of zitadel/oidc. Only cmd/… may import ui, and
// ui/console for what it shares with the pages so that both render alike:
// the page set (PageSet, ParsePages, PageBlocks, WritePage) and the little
// shared.go exports.
package ui

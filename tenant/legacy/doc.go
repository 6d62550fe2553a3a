// Package legacy reaches the user pools that tenants come from, for lazy
// migration: it implements tenant.LegacyDirectory, which asks a legacy pool
// whether a password is right (sign-in) or who a user is (forgotten
// password), and answers with a tenant.LegacyAccount to create here.
//
// Two kinds of pool are spoken to:
//
//   - Amazon Cognito, through the AWS SDK for Go v2: InitiateAuth with
//     USER_PASSWORD_AUTH, or Cognito's Secure Remote Password variant
//     (USER_SRP_AUTH, PASSWORD_VERIFIER; srp.go) for app clients that allow
//     only that, and, with administrator keys, AdminGetUser and
//     AdminListGroupsForUser for the whole profile.
//   - Any other system, through an HTTPS webhook that receives the event a
//     Cognito user migration Lambda receives and answers as one does,
//     signed with a shared secret (webhook.go).
//
// Every answer is sorted into three: an account (the password was right),
// tenant.ErrLegacyRefused (the pool said no), or tenant.ErrLegacyUnavailable
// (no usable answer: down, slow, failing, misconfigured). A pool that could
// not be asked is never read as a wrong password.
//
// Passwords pass through here in clear, so nothing here logs a request, a
// response body or a migration event, and errors name the operation and
// the pool's error code, never what was sent.
//
// This package must not import tenant/auth (which uses it through the
// tenant.LegacyDirectory interface), the admin API, the provider, the pages
// or a storage backend.
package legacy

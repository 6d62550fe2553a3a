package tenant

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Codes of the validation rules an *InvalidError names. They are stable:
// front ends key their own wording on them (the admin console's import
// report says them in the admin's language), so a code never changes its
// meaning; a new rule gets a new code.
const (
	CodeUsernameLength      = "username.length"      // a username must be 1 to 128 characters
	CodeUsernameSpaces      = "username.spaces"      // a username may not contain spaces
	CodeUsernameCharacters  = "username.characters"  // a username holds invisible or control characters
	CodeEmailInvalid        = "email.invalid"        // Args[0] is not an email address
	CodeAttributeCustomName = "attribute.customName" // custom attribute Args[0] has a bad name
	CodeAttributeUnknown    = "attribute.unknown"    // Args[0] is not a standard attribute
	CodeAttributeTooLong    = "attribute.tooLong"    // attribute Args[0]'s value is too long
	CodeAttributeNotText    = "attribute.notText"    // attribute Args[0]'s value is not text
	CodeAttributePhone      = "attribute.phone"      // phone_number Args[0] is not E.164
	CodeAttributeBoolean    = "attribute.boolean"    // attribute Args[0]'s value Args[1] is not true or false
	CodeAttributeEpoch      = "attribute.epoch"      // attribute Args[0]'s value Args[1] is not seconds since 1970
	CodeAttributeDate       = "attribute.date"       // attribute Args[0]'s value Args[1] is not YYYY-MM-DD
	CodeUsernameIsEmail     = "username.isEmail"     // username Args[0] is another user's email address
	CodeEmailIsUsername     = "email.isUsername"     // email address Args[0] is another user's username
	CodeGroupUnknown        = "group.unknown"        // there is no group Args[0] (deleted or renamed meanwhile)
	CodeGroupDescLength     = "group.descLength"     // a group description is longer than Args[0]: Args[1] characters
	CodeGroupDescText       = "group.descText"       // a group description holds control characters

	// A group's name (ValidateGroupName) and precedence.
	CodeGroupNameLength      = "group.nameLength"      // a group name must be 1 to Args[0] characters
	CodeGroupNameDots        = "group.nameDots"        // a group name is "." or ".."
	CodeGroupNameSpaces      = "group.nameSpaces"      // a group name starts or ends with a space
	CodeGroupNameText        = "group.nameText"        // a group name holds control characters, line breaks or hidden characters
	CodeGroupPrecedenceRange = "group.precedenceRange" // a precedence is not 0 to Args[0]

	// A redirect or logout URI (ValidateRedirectURI). In a client, the
	// error's Field says which of its lists holds it.
	CodeURITooLong     = "uri.tooLong"     // Args[0] (cut short) is longer than Args[1]: Args[2] characters
	CodeURINotAbsolute = "uri.notAbsolute" // Args[0] is not an absolute URL
	CodeURIFragment    = "uri.fragment"    // Args[0] has a fragment
	CodeURINotHTTPS    = "uri.notHTTPS"    // Args[0] is neither https nor http to this machine

	// A client's settings (ValidateClient), beside the URI rules.
	CodeClientNameMissing       = "client.nameMissing"       // the client has no name
	CodeClientNameRule          = "client.nameRule"          // the name is longer than Args[0] or holds control characters
	CodeClientNoGrant           = "client.noGrant"           // the client has no grant type
	CodeClientGrantUnsupported  = "client.grantUnsupported"  // grant type Args[0] is not one Cognate has
	CodeClientPublicCredentials = "client.publicCredentials" // a public client asks for client_credentials
	CodeClientNoRedirect        = "client.noRedirect"        // the authorization code grant without a redirect URI
	CodeClientScope             = "client.scope"             // Args[0] is no scope-token of 1 to Args[1] characters
	CodeClientTwice             = "client.twice"             // Args[0] is in the error's Field twice
	CodeClientRedirectsTooMany  = "client.redirectsTooMany"  // more than Args[0] redirect URIs: Args[1]
	CodeClientLogoutsTooMany    = "client.logoutsTooMany"    // more than Args[0] logout URIs: Args[1]
	CodeClientScopesTooMany     = "client.scopesTooMany"     // more than Args[0] scopes: Args[1]
	CodeClientAccessTokenTTL    = "client.accessTokenTTL"    // the access token lifetime is not Args[0] to Args[1]
	CodeClientIDTokenTTL        = "client.idTokenTTL"        // the ID token lifetime is not Args[0] to Args[1]
	CodeClientRefreshTokenTTL   = "client.refreshTokenTTL"   // the refresh token lifetime is not Args[0] to Args[1]
	CodeClientRetryGrace        = "client.retryGrace"        // the retry grace period is not 0 to Args[0] whole seconds
)

// The parts of a client an *InvalidError names (its Field and Parts): the
// admin API's names of them. The lists come first; a client's Field is
// one of them.
const (
	FieldGrantTypes   = "grant_types"
	FieldRedirectURIs = "redirect_uris"
	FieldLogoutURIs   = "post_logout_redirect_uris"
	FieldScopes       = "scopes"

	FieldName              = "name"
	FieldPublic            = "public" // public or confidential, fixed at creation
	FieldAccessTokenTTL    = "access_token_ttl_seconds"
	FieldIDTokenTTL        = "id_token_ttl_seconds"
	FieldRefreshTokenTTL   = "refresh_token_ttl_seconds"
	FieldRefreshRetryGrace = "refresh_token_retry_grace_seconds"
)

// FieldAdminGroup is the Field of the refusal of a group's name chosen as
// a tenant's admin group (a rule of ValidateGroupName): the admin API's
// name of the setting. A front end says the rule at the admin group, and
// the English names the setting first ("admin group: a group name …").
const FieldAdminGroup = "admin_group"

// fieldNouns are the English of the Fields, which a rule's text starts
// with: a rule about one value of a list (valueRules) with the value's
// noun ("redirect URI"), any other with the setting's name as a heading
// ("admin group: ").
var fieldNouns = map[string]string{
	FieldGrantTypes: "grant type", FieldRedirectURIs: "redirect URI", FieldLogoutURIs: "logout URI", FieldScopes: "scope",
	FieldAdminGroup: "admin group",
}

// valueRules are the codes whose English starts with the value, which a
// Field names first when it is one of a list's.
var valueRules = []string{
	CodeURITooLong, CodeURINotAbsolute, CodeURIFragment, CodeURINotHTTPS,
	CodeClientGrantUnsupported, CodeClientScope, CodeClientTwice,
}

// invalidTexts is the English of each code, a format over the Args. It is
// read-only.
var invalidTexts = map[string]string{
	CodeUsernameLength:      "a username must be 1 to 128 characters",
	CodeUsernameSpaces:      "a username may not contain spaces",
	CodeUsernameCharacters:  "a username may hold only letters, digits, symbols and punctuation, nothing invisible",
	CodeEmailInvalid:        "%q is not an email address",
	CodeAttributeCustomName: "attribute name %q must be custom:<1 to 25 characters>",
	CodeAttributeUnknown:    "%q is not a standard attribute (custom attributes start with \"custom:\")",
	CodeAttributeTooLong:    "attribute %q is longer than 2048 characters",
	CodeAttributeNotText:    "attribute %q holds control characters or bytes that are not UTF-8 text",
	CodeAttributePhone:      "phone_number %q is not in E.164 form (+ and up to 15 digits, as +12345550100)",
	CodeAttributeBoolean:    "%s must be true or false, not %q",
	CodeAttributeEpoch:      "%s %q is not a time in seconds since 1970",
	CodeAttributeDate:       "%s %q is not a date written YYYY-MM-DD",
	CodeUsernameIsEmail:     "username %q is the email address of another user, who signs in with it",
	CodeEmailIsUsername:     "email address %q is the username of another user: signing in with it would find that user",
	CodeGroupUnknown:        "there is no group %q",
	CodeGroupDescLength:     "a group description may be at most %s characters; this one has %s",
	CodeGroupDescText:       "a group description may not contain control characters or bytes that are not UTF-8 text",

	CodeGroupNameLength:      "a group name must be 1 to %s characters",
	CodeGroupNameDots:        `a group name may not be "." or ".."`,
	CodeGroupNameSpaces:      "a group name may not start or end with a space",
	CodeGroupNameText:        "a group name may not contain control characters, line breaks, characters that cannot be seen (a zero-width joiner only between the characters it joins, not between ASCII ones), or bytes that are not UTF-8 text, and needs one character that can be seen",
	CodeGroupPrecedenceRange: "a group precedence must be a whole number from 0 to %s",

	CodeURITooLong:     "%q must be at most %s characters; it has %s",
	CodeURINotAbsolute: "%q must be an absolute URL",
	CodeURIFragment:    "%q may not contain a fragment",
	CodeURINotHTTPS:    "%q must use https (http is allowed only for localhost)",

	CodeClientNameMissing:       "the client needs a name",
	CodeClientNameRule:          "the client's name must be at most %s characters, without control characters",
	CodeClientNoGrant:           "the client needs at least one grant type",
	CodeClientGrantUnsupported:  "%q is not supported",
	CodeClientPublicCredentials: "a public client cannot use client_credentials: it has no secret",
	CodeClientNoRedirect:        "the authorization code grant needs at least one redirect URI",
	CodeClientScope:             "%q is refused: a scope is 1 to %s characters of printable ASCII, without spaces, quotes or backslashes",
	CodeClientTwice:             "%q is given twice",
	CodeClientRedirectsTooMany:  "a client may have at most %s redirect URIs; this one has %s",
	CodeClientLogoutsTooMany:    "a client may have at most %s logout URIs; this one has %s",
	CodeClientScopesTooMany:     "a client may have at most %s scopes; this one has %s",
	CodeClientAccessTokenTTL:    "access token lifetime must be between %s and %s",
	CodeClientIDTokenTTL:        "ID token lifetime must be between %s and %s",
	CodeClientRefreshTokenTTL:   "refresh token lifetime must be between %s and %s",
	CodeClientRetryGrace:        "the refresh token retry grace period must be 0 to %s whole seconds",
}

// ErrSignInNameTaken is matched (errors.Is) by the *InvalidError of a
// username that is another user's email address, or an email address that
// is another user's username (CodeUsernameIsEmail, CodeEmailIsUsername).
// Sign-in looks a name up as a username first and as an email address
// after (FindUser), so either would let one user's name take another's
// sign-in: a conflict with another record, which front ends may say as
// one, as they say a username that is taken.
var ErrSignInNameTaken = errors.New("another user signs in with this name")

// InvalidError is an ErrInvalid that names the rule broken, for callers
// that say it in words of their own (errors.As): the importer reports it
// per line with its code, and the console translates that. Everyone else
// treats it as ErrInvalid, whose text it keeps.
type InvalidError struct {
	Code string   // one of the Code… constants
	Args []string // the values the rule's text names, in order
	// Field is the list of a client the value that broke the rule is in
	// (one of the Field… constants), when the rule is about one value
	// (a URI, a scope, a grant type) and the code does not say which
	// list; or the setting of a tenant the value was chosen for
	// (FieldAdminGroup). A front end points at it, and the English names
	// it first.
	Field string
	// Parts are the parts of a client (Field… constants) a rule of
	// ValidateClient looked at to refuse it, Field among them: a front
	// end that knows only some of a client's parts (a command line that
	// changes a few) judges the rules whose parts it all knows, and
	// leaves the others to the service. Every refusal of ValidateClient
	// names them; other validators leave them empty.
	Parts []string
}

func invalid(code string, args ...string) *InvalidError {
	return &InvalidError{Code: code, Args: args}
}

// InvalidCodes lists, sorted, every code an *InvalidError can have: a
// front end that words the rules itself checks it has them all.
func InvalidCodes() []string {
	return slices.Sorted(maps.Keys(invalidTexts))
}

// in is e about a value of the list field of a client.
func (e *InvalidError) in(field string) *InvalidError {
	e.Field = field
	return e.about(field)
}

// about is e judged by the parts of a client given.
func (e *InvalidError) about(parts ...string) *InvalidError {
	e.Parts = parts
	return e
}

// Reason is the English text of the rule broken, without ErrInvalid's
// prefix: the text Error gives after "invalid input: ".
func (e *InvalidError) Reason() string {
	format, ok := invalidTexts[e.Code]
	if !ok {
		return e.Code
	}
	text := FormatArgs(format, e.Args)
	switch noun := fieldNouns[e.Field]; {
	case noun == "":
	case slices.Contains(valueRules, e.Code):
		text = noun + " " + text
	default:
		text = noun + ": " + text
	}
	return text
}

// FormatArgs is format with its verbs filled from args, the values a
// rule's or a reason's text names: the one way the English of a code and
// its translations (the console's catalogue) are filled in.
func FormatArgs(format string, args []string) string {
	values := make([]any, len(args))
	for i, a := range args {
		values[i] = a
	}
	return fmt.Sprintf(format, values...)
}

func (e *InvalidError) Error() string { return ErrInvalid.Error() + ": " + e.Reason() }

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// Is makes errors.Is(err, ErrSignInNameTaken) hold for the rules that keep
// sign-in names apart.
func (e *InvalidError) Is(target error) bool {
	return target == ErrSignInNameTaken && (e.Code == CodeUsernameIsEmail || e.Code == CodeEmailIsUsername)
}

// InvalidErrors is every rule a value broke, for a validator that says
// them all at once (ValidateClient), in the order it checked them: a
// front end that shows one shows the first (errors.As finds it). It is
// ErrInvalid, whose text says them all, sorted.
type InvalidErrors []*InvalidError

func (es InvalidErrors) Error() string { return ErrInvalid.Error() + ": " + es.Reason() }

// Reason is the English of every rule broken, sorted, without ErrInvalid's
// prefix.
func (es InvalidErrors) Reason() string {
	reasons := make([]string, len(es))
	for i, e := range es {
		reasons[i] = e.Reason()
	}
	slices.Sort(reasons)
	return strings.Join(reasons, "; ")
}

// Unwrap makes errors.Is(err, ErrInvalid) hold, and errors.As find the
// first rule.
func (es InvalidErrors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// orNil is es as an error: nil when no rule was broken.
func (es InvalidErrors) orNil() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// InvalidReason is the English of an ErrInvalid for a person, without the
// sentinel's prefix when it names its rules (an *InvalidError or
// InvalidErrors); any other error is said whole.
func InvalidReason(err error) string {
	var all InvalidErrors
	if errors.As(err, &all) {
		return all.Reason()
	}
	var one *InvalidError
	if errors.As(err, &one) {
		return one.Reason()
	}
	return err.Error()
}

package tenant

import (
	"errors"
	"fmt"
	"maps"
	"slices"
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
)

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
}

func invalid(code string, args ...string) *InvalidError {
	return &InvalidError{Code: code, Args: args}
}

// InvalidCodes lists, sorted, every code an *InvalidError can have: a
// front end that words the rules itself checks it has them all.
func InvalidCodes() []string {
	return slices.Sorted(maps.Keys(invalidTexts))
}

// Reason is the English text of the rule broken, without ErrInvalid's
// prefix: the text Error gives after "invalid input: ".
func (e *InvalidError) Reason() string {
	format, ok := invalidTexts[e.Code]
	if !ok {
		return e.Code
	}
	return FormatArgs(format, e.Args)
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

package tenant

import "fmt"

// Codes of the validation rules an *InvalidError names. They are stable:
// front ends key their own wording on them (the admin console's import
// report says them in the admin's language), so a code never changes its
// meaning; a new rule gets a new code.
const (
	CodeUsernameLength      = "username.length"      // a username must be 1 to 128 characters
	CodeUsernameSpaces      = "username.spaces"      // a username may not contain spaces
	CodeEmailInvalid        = "email.invalid"        // Args[0] is not an email address
	CodeAttributeCustomName = "attribute.customName" // custom attribute Args[0] has a bad name
	CodeAttributeUnknown    = "attribute.unknown"    // Args[0] is not a standard attribute
	CodeAttributeTooLong    = "attribute.tooLong"    // attribute Args[0]'s value is too long
)

// invalidTexts is the English of each code, a format over the Args. It is
// read-only.
var invalidTexts = map[string]string{
	CodeUsernameLength:      "a username must be 1 to 128 characters",
	CodeUsernameSpaces:      "a username may not contain spaces",
	CodeEmailInvalid:        "%q is not an email address",
	CodeAttributeCustomName: "attribute name %q must be custom:<1 to 25 characters>",
	CodeAttributeUnknown:    "%q is not a standard attribute (custom attributes start with \"custom:\")",
	CodeAttributeTooLong:    "attribute %q is longer than 2048 characters",
}

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

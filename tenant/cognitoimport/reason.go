package cognitoimport

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cognate-idp/cognate/tenant"
)

// Reason is one reason a line failed, or one note about a line that did
// not, or what is wrong or odd with the file as a whole (a *FileError, a
// warning), as a stable code and the values its text names. Front ends
// that speak other languages than English word the code themselves (the
// admin console); String is the English, the text LineResult.Reason holds
// and Record.Problem and FileError.Problem give, so the two cannot tell
// different stories.
type Reason struct {
	Code string   // one of ReasonCodes
	Args []string // the values the text names, in order
}

// The codes of the reasons and notes the readers and Import give, beside
// the tenant.Code… rules of tenant's validators, which they pass on as
// they are. A code never changes its meaning; a new reason gets a new code.
// Args, where a reason has them, are the values its text names, in order.
const (
	// A CSV line (CSVReader).
	CodeCSVLineTooLong        = "csv.lineTooLong"        // longer than the read buffer
	CodeCSVLineLength         = "csv.lineLength"         // Args: the length in characters
	CodeCSVNotUTF8            = "csv.notUTF8"            // not UTF-8
	CodeCSVTrailingBackslash  = "csv.trailingBackslash"  // a \ at the end escapes nothing
	CodeCSVValueCount         = "csv.valueCount"         // Args: values, columns
	CodeCSVUsernameEmpty      = "csv.usernameEmpty"      // no cognito:username
	CodeCSVBirthdate          = "csv.birthdate"          // Args: the value
	CodeCSVEpoch              = "csv.epoch"              // Args: column, value
	CodeCSVNoVerifiedContact  = "csv.noVerifiedContact"  // neither email nor phone verified
	CodeCSVEmailVerifiedEmpty = "csv.emailVerifiedEmpty" // email_verified without email
	CodeCSVPhoneVerifiedEmpty = "csv.phoneVerifiedEmpty" // phone_number_verified without phone_number

	// A value either reader reads as a boolean. Args: name, value.
	CodeNotBoolean = "value.notBoolean"

	// A JSON user (JSONReader).
	CodeJSONUsernameMissing    = "json.usernameMissing"
	CodeJSONStatus             = "json.status"             // Args: the status
	CodeJSONBothAttributeLists = "json.bothAttributeLists" // Attributes and UserAttributes
	CodeJSONAttributeTwice     = "json.attributeTwice"     // Args: the attribute
	CodeJSONCreateDateFormat   = "json.createDateFormat"   // Args: the string
	CodeJSONCreateDateSeconds  = "json.createDateSeconds"  // Args: the number as written
	CodeJSONGroupsObject       = "json.groupsObject"       // an object without a Groups array
	CodeJSONGroupsNotArray     = "json.groupsNotArray"     // Groups of another shape
	CodeJSONGroupWithoutName   = "json.groupWithoutName"   // a group without a GroupName
	CodeJSONNotObject          = "json.notObject"          // a user that is no object
	CodeJSONWrongType          = "json.wrongType"          // Args: field, JSON type
	CodeNoteIdentitiesDropped  = "note.identitiesDropped"  // a note: identities not imported
	// Args: the member, or the attribute, whose value is not UTF-8.
	CodeJSONNotUTF8 = "json.notUTF8"
	// Args: the position of the element in its array, its JSON type.
	CodeJSONElementNotObject = "json.elementNotObject"
	// An entry of Groups that is neither a name nor an object. Args: JSON type.
	CodeJSONGroupEntryType = "json.groupEntryType"
	// A GroupName that is not a string. Args: JSON type.
	CodeJSONGroupNameType = "json.groupNameType"
	// A Description that is not a string. Args: the group, JSON type.
	CodeJSONGroupDescriptionType = "json.groupDescriptionType"

	// Import's own checks of a line.
	CodeSubInvalid        = "sub.invalid"        // a sub Cognate cannot store
	CodeSubPathSegment    = "sub.pathSegment"    // Args: the sub, which no web address can carry
	CodePhoneNotE164      = "phone.notE164"      // Args: the number (tenant.CodeAttributePhone)
	CodeHashUnknownScheme = "hash.unknownScheme" // a password hash of no known scheme
	CodeHashMalformed     = "hash.malformed"     // Args: what is wrong, in tenant/password's words
	CodeHashUnchecked     = "hash.unchecked"     // a password hash tenant/password refused for no reason it names
	CodeGroupName         = "group.name"         // Args: the group
	CodeGroupDescription  = "group.description"  // Args: the group
	CodeGroupPrecedence   = "group.precedence"   // Args: the group
	CodeNoteMFAReenroll   = "note.mfaReenroll"   // a note; Args: the attribute that marks the user
	CodeNotePasswordKept  = "note.passwordKept"  // a note: the imported hash was not used
	// A note: the user must reset their password but has no verified
	// email address to get the code at, and the tenant no legacy pool.
	CodeNoteNoVerifiedEmail = "note.noVerifiedEmail"
	// A rule of tenant's without a code of its own. Args: tenant's words.
	CodeInvalid = "invalid"

	// What the tenant's users, or the store, do not allow.
	CodeConflictUsernameTaken = "conflict.usernameTaken" // Args: username, the other user's sub
	CodeConflictSubTaken      = "conflict.subTaken"      // Args: sub, the other user's username
	CodeRefusedTaken          = "refused.taken"          // Args: username
	// A username that differs only in case from one on an earlier line of
	// the same file. Args: username, the earlier line.
	CodeConflictUsernameCase = "conflict.usernameCase"
	CodeRefusedInvalid       = "refused.invalid" // Args: the store's own words
	// A group the line names whose name another group had until a
	// moment ago: its members are still moving out. Args: the group.
	CodeGroupNameMoving = "refused.groupNameMoving"

	// A CSV file as a whole: the Reason of a *FileError from NewCSVReader,
	// or a warning.
	CodeCSVEmpty         = "csv.empty"         // no header row
	CodeCSVHeaderTooLong = "csv.headerTooLong" // longer than a line may be
	CodeCSVHeaderNotUTF8 = "csv.headerNotUTF8" // not UTF-8
	CodeCSVByteOrderMark = "csv.byteOrderMark" // a warning: a BOM was skipped
	// The last line has no line break: the file may have been cut short.
	CodeCSVNoFinalLineBreak = "csv.noFinalLineBreak"
	CodeCSVHeader           = "csv.header" // not Cognito's; Details say why, with the codes below
	// The problems of a header row that is not Cognito's, a FileError's
	// Details. They name a column by its number, and quote its name only
	// when it cannot be a user's value (see NewCSVReader).
	CodeCSVColumnUnknown    = "csv.columnUnknown"    // Args: column, name
	CodeCSVColumnNoName     = "csv.columnNoName"     // Args: column
	CodeCSVColumnSub        = "csv.columnSub"        // Args: column
	CodeCSVColumnCustomName = "csv.columnCustomName" // Args: column
	CodeCSVColumnTwice      = "csv.columnTwice"      // Args: column, name, its first column
	CodeCSVColumnValue      = "csv.columnValue"      // Args: column
	// Args: every column but the last, as "1, 2, 3", and the last.
	CodeCSVColumnValues     = "csv.columnValues"
	CodeCSVColumnMissing    = "csv.columnMissing"    // Args: the required column
	CodeCSVNoVerifiedColumn = "csv.noVerifiedColumn" // neither email_verified nor phone_number_verified

	// A JSON file as a whole: the Reason of a *FileError from
	// NewJSONReader or Next, or a warning.
	CodeJSONEmpty              = "json.empty"              // no JSON value
	CodeJSONFileNotContainer   = "json.fileNotContainer"   // the first value is neither object nor array
	CodeJSONValueNotContainer  = "json.valueNotContainer"  // a later top-level value is neither
	CodeJSONUsersTwice         = "json.usersTwice"         // a page with two Users members
	CodeJSONUsernameAndUsers   = "json.usernameAndUsers"   // an object both a user and a page
	CodeJSONNeitherPageNorUser = "json.neitherPageNorUser" // an object outside a page without Users or Username
	CodeJSONUsersNotArray      = "json.usersNotArray"      // a page's Users of another shape
	CodeJSONSyntax             = "json.syntaxAt"           // Args: line, column
	CodeJSONTruncated          = "json.truncated"          // the file ends inside a value
	CodeJSONByteOrderMark      = "json.byteOrderMark"      // a warning: a BOM was skipped

	// Either file, as a whole.
	CodeFileEncoding = "file.encoding" // Args: UTF-16 or UTF-32, which the file is instead of UTF-8
)

// reasonTexts is the English of each code of this package, a format over
// the Args. It is read-only.
var reasonTexts = map[string]string{
	CodeCSVLineTooLong:       "the line is longer than Cognito's limit of 16,000 characters",
	CodeCSVLineLength:        "the line is %s characters long; Cognito allows at most 16,000",
	CodeCSVNotUTF8:           "the line is not valid UTF-8 text",
	CodeCSVTrailingBackslash: `the line ends in a backslash, which escapes nothing (write \\ for a backslash)`,
	CodeCSVValueCount: "the line has %s values but the header has %s columns " +
		"(every column must be present, cells may be empty; write a comma inside a value as \\,)",
	CodeCSVUsernameEmpty: ColumnUsername + " is empty",
	CodeCSVBirthdate:     "birthdate %q is not a date written mm/dd/yyyy",
	CodeCSVEpoch:         "%s %q is not a time in seconds since 1970",
	CodeCSVNoVerifiedContact: "The User Record does not set any of the auto verified attributes to true " +
		"(email_verified or phone_number_verified must be TRUE)",
	CodeCSVEmailVerifiedEmpty: "email_verified is TRUE but email is empty",
	CodeCSVPhoneVerifiedEmpty: "phone_number_verified is TRUE but phone_number is empty",
	CodeNotBoolean:            "%s is %q; it must be true or false",

	CodeJSONUsernameMissing:      "Username is missing",
	CodeJSONStatus:               "UserStatus %q is not one of Cognito's statuses",
	CodeJSONBothAttributeLists:   "the user has both Attributes (ListUsers) and UserAttributes (AdminGetUser)",
	CodeJSONAttributeTwice:       "attribute %s appears twice",
	CodeJSONCreateDateFormat:     "UserCreateDate %q is not an RFC 3339 time",
	CodeJSONCreateDateSeconds:    "UserCreateDate %s is not a time in seconds since 1970",
	CodeJSONGroupsObject:         "Groups is an object without a Groups array; want AdminListGroupsForUser's output or its Groups array",
	CodeJSONGroupsNotArray:       "Groups is not an array of groups",
	CodeJSONGroupWithoutName:     "Groups holds an entry without a GroupName",
	CodeJSONNotObject:            "the user is not a JSON object",
	CodeJSONWrongType:            "%s is JSON %s, which is not what Cognito writes there",
	CodeNoteIdentitiesDropped:    "attribute identities (federated sign-in links) was not imported",
	CodeJSONNotUTF8:              "%s is not valid UTF-8 text; save the file as UTF-8",
	CodeJSONElementNotObject:     "element %s of the array is JSON %s; it must be a user or a ListUsers page (an object)",
	CodeJSONGroupEntryType:       "Groups holds an entry that is JSON %s; an entry must be a group name or an object with a GroupName",
	CodeJSONGroupNameType:        "Groups holds an entry whose GroupName is JSON %s; it must be a string",
	CodeJSONGroupDescriptionType: "group %q: Description is JSON %s; it must be a string",

	CodeSubInvalid: "sub must be 1 to 128 printable characters without spaces",
	CodeSubPathSegment: `sub %q cannot be part of a web address, where the user is named by sub: ` +
		`it must not be "." or ".." or contain "/"`,
	CodePhoneNotE164: "phone_number %q is not in E.164 form (+ and up to 15 digits, as +12345550100)",
	CodeHashUnknownScheme: ColumnPasswordHash + " is in no format Cognate verifies " +
		"(argon2id, bcrypt, scrypt, PBKDF2-SHA256, Django pbkdf2_sha256; see docs/import.md)",
	CodeHashMalformed:    ColumnPasswordHash + " is malformed: %s",
	CodeHashUnchecked:    ColumnPasswordHash + " could not be checked, so it cannot be used",
	CodeGroupName:        "group %q: a group name must be 1 to 128 characters, without leading or trailing spaces or control characters, and not . or ..",
	CodeGroupDescription: "group %q: the description is longer than 2048 characters",
	CodeGroupPrecedence:  "group %q: precedence must be a whole number from 0 to 2147483647",
	CodeNoteMFAReenroll:  "MFA was enabled in Cognito and must be set up again (Cognito does not export MFA secrets); marked with %s",
	CodeNotePasswordKept: "the user already has a password here, which was kept; the imported hash was not used",
	CodeNoteNoVerifiedEmail: "the user has no verified email address, and reset codes go only to one (Cognate sends no SMS): " +
		"they cannot sign in until an administrator sets a password (cognate user set-password), " +
		"or their old one comes over as " + ColumnPasswordHash + " or through a legacy pool",

	CodeConflictUsernameTaken: "username %q belongs to another user here (sub %s)",
	CodeConflictSubTaken:      "sub %s belongs to user %q here, and a username cannot change",
	CodeRefusedTaken:          "the username %q or the sub is already taken",
	CodeConflictUsernameCase: "username %q differs only in case from the one on line %s; usernames are case-insensitive here, " +
		"so the two would be one user: give one of them another username",
	CodeRefusedInvalid: "the tenant refused the user: %s",
	CodeGroupNameMoving: "the group name %q was another group's until a moment ago, and its members are still being moved out of it; " +
		"import this line again in a moment",
	CodeInvalid: "%s",

	CodeCSVEmpty:         "the file is empty; a Cognito CSV starts with a header row of column names (GetCSVHeader)",
	CodeCSVHeaderTooLong: "the header row is longer than 16,000 characters, so this is not a Cognito user import CSV",
	CodeCSVHeaderNotUTF8: "the header row is not UTF-8 text, so this is not a Cognito user import CSV",
	CodeCSVByteOrderMark: "the file starts with a UTF-8 byte order mark (BOM), which Cognito's import refuses; it was ignored",
	CodeCSVNoFinalLineBreak: "the last line has no line break at its end, so the file may have been cut short; " +
		"if it is whole, add a line break at its end and import it again",
	CodeCSVHeader:           "the header row is not Cognito's",
	CodeCSVColumnUnknown:    "column %s: %q is not a Cognito attribute (standard names, custom:<name>, cognito:username, cognito:mfa_enabled, " + ColumnPasswordHash + ")",
	CodeCSVColumnNoName:     "column %s: a column has no name",
	CodeCSVColumnSub:        "column %s: sub cannot be imported from CSV (Cognito gives every imported user a new sub); import a ListUsers JSON dump to keep subs",
	CodeCSVColumnCustomName: "column %s: a custom attribute's column is custom: and a name without spaces, 32 characters in all",
	CodeCSVColumnTwice:      "column %s: %q is also column %s",
	CodeCSVColumnValue:      "column %s holds a value, not a column name" + headerFix,
	CodeCSVColumnValues:     "columns %s and %s hold values, not column names" + headerFix,
	CodeCSVColumnMissing:    "the required column %s is missing",
	CodeCSVNoVerifiedColumn: "neither email_verified nor phone_number_verified is a column; Cognito needs one of them true for every user",

	CodeJSONEmpty:              "the file is empty; want a JSON dump of ListUsers or AdminGetUser output",
	CodeJSONFileNotContainer:   "the file is JSON but not an object or an array; want a dump of ListUsers or AdminGetUser output",
	CodeJSONValueNotContainer:  "the file holds a JSON value that is not an object or an array; want ListUsers or AdminGetUser output",
	CodeJSONUsersTwice:         "a page has two Users members",
	CodeJSONUsernameAndUsers:   "an object has both Username and Users, so it is neither a user nor a ListUsers page",
	CodeJSONNeitherPageNorUser: "an object is neither a ListUsers page (it has no Users) nor a user (it has no Username)",
	CodeJSONUsersNotArray:      "a ListUsers page's Users is not an array",
	CodeJSONSyntax:             "the file is not valid JSON at line %s, column %s",
	CodeJSONTruncated:          "the JSON ends in the middle of a value; the file may be incomplete",
	CodeJSONByteOrderMark:      "the file starts with a UTF-8 byte order mark (BOM); it was ignored",

	CodeFileEncoding: "the file is %s text, not UTF-8: save it as UTF-8 and import it again " +
		"(PowerShell's > writes UTF-16; use Out-File -Encoding utf8)",
}

// headerFix ends the English of a header row that holds values.
const headerFix = ": the first line must be the header of GetCSVHeader, naming the columns (cognito:username, email, email_verified, …)"

// tenantRules are the rules of tenant's validators that Import meets, each
// with what goes before tenant's own English for it in a line's reason.
var tenantRules = map[string]string{
	tenant.CodeUsernameLength:      "username: ",
	tenant.CodeUsernameSpaces:      "username: ",
	tenant.CodeEmailInvalid:        "",
	tenant.CodeAttributeCustomName: "",
	tenant.CodeAttributeUnknown:    "",
	tenant.CodeAttributeTooLong:    "",
	tenant.CodeUsernameCharacters:  "username: ",
	tenant.CodeAttributeNotText:    "",
	tenant.CodeAttributeBoolean:    "",
	tenant.CodeAttributeEpoch:      "",
	tenant.CodeAttributeDate:       "",
	tenant.CodeUsernameIsEmail:     "",
	tenant.CodeEmailIsUsername:     "",
}

// ReasonCodes lists, sorted, every code a Reason of this package can
// have: a front end that words reasons itself checks it has them all.
func ReasonCodes() []string {
	codes := slices.AppendSeq(slices.Collect(maps.Keys(reasonTexts)), maps.Keys(tenantRules))
	slices.Sort(codes)
	return codes
}

// String is the reason in English. It is the one place that words a code
// in English.
func (r Reason) String() string {
	if prefix, ok := tenantRules[r.Code]; ok {
		return prefix + (&tenant.InvalidError{Code: r.Code, Args: r.Args}).Reason()
	}
	format, ok := reasonTexts[r.Code]
	if !ok {
		return r.Code
	}
	return r.Format(format)
}

// Format is format, the reason's text in some language, filled with the
// reason's values.
func (r Reason) Format(format string) string { return tenant.FormatArgs(format, r.Args) }

// SampleReason is a reason of code with the placeholder values ARG0,
// ARG1… as its values, as many as its English takes (the fewest that fmt
// fills without complaint, up to three): front ends check their own
// wording of every code with it. ok is false when no number fits, which is
// a fault in this package's English.
func SampleReason(code string) (r Reason, ok bool) {
	for n := range 4 {
		r = Reason{Code: code}
		for i := range n {
			r.Args = append(r.Args, fmt.Sprintf("ARG%d", i))
		}
		if !strings.Contains(r.String(), "%!") {
			return r, true
		}
	}
	return Reason{}, false
}

func reason(code string, args ...string) Reason { return Reason{Code: code, Args: args} }

// reasonsText is the English of several reasons, as one sentence.
func reasonsText(rs []Reason) string {
	texts := make([]string, len(rs))
	for i, r := range rs {
		texts[i] = r.String()
	}
	return strings.Join(texts, "; ")
}

// invalidReason is the reason of one of tenant's validation errors: its
// rule when it names one (every validator Import calls does), else its
// words (tenant.InvalidReason).
func invalidReason(err error) Reason {
	var inv *tenant.InvalidError
	if errors.As(err, &inv) {
		if inv.Code == tenant.CodeAttributePhone {
			// tenant's rule is the one the importer checked before
			// tenant did, in the same words: keep the importer's code.
			return reason(CodePhoneNotE164, inv.Args...)
		}
		if _, known := tenantRules[inv.Code]; known {
			return Reason{Code: inv.Code, Args: inv.Args}
		}
	}
	return reason(CodeInvalid, tenant.InvalidReason(err))
}

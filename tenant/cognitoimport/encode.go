package cognitoimport

import (
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"time"
)

// ErrRecordProblem is WriteJSON's refusal of a record that has a Problem:
// such a record may be partial, and written out it would import as
// something the file did not say.
var ErrRecordProblem = errors.New("cognitoimport: the record has a problem")

// userOut is the UserType shape that NewJSONReader reads back.
type userOut struct {
	Username       string          `json:"Username"`
	Attributes     []attributeJSON `json:"Attributes"`
	Enabled        *bool           `json:"Enabled,omitempty"`
	UserStatus     string          `json:"UserStatus,omitempty"`
	UserCreateDate string          `json:"UserCreateDate,omitempty"`
	Groups         *[]groupOut     `json:"Groups,omitempty"`
	Line           int             `json:"cognate:line,omitempty"`
}

type groupOut struct {
	GroupName   string `json:"GroupName"`
	Description string `json:"Description,omitempty"`
	Precedence  *int   `json:"Precedence,omitempty"`
}

// WriteJSON writes rec as one line of JSON that NewJSONReader reads back as
// the same record (its Notes aside): a ListUsers user, with sub,
// cognate:password_hash and cognito:mfa_enabled as attributes, the groups
// embedded, and rec.Line as the member cognate:line. cognate migrate uses
// it to split one pool's export into a file per organization: what the
// import of a part reports, a failed line and the earlier line a reason
// names, then has the line numbers of the file the person has.
func WriteJSON(w io.Writer, rec Record) error {
	if len(rec.Problems) > 0 {
		return ErrRecordProblem
	}
	u := userOut{Username: rec.Username, Enabled: rec.Enabled, UserStatus: string(rec.Status), Line: rec.Line}
	if rec.Sub != "" {
		u.Attributes = append(u.Attributes, attributeJSON{Name: "sub", Value: rec.Sub})
	}
	names := make([]string, 0, len(rec.Attributes))
	for name := range rec.Attributes {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		u.Attributes = append(u.Attributes, attributeJSON{Name: name, Value: rec.Attributes[name]})
	}
	if rec.PasswordHash != "" {
		u.Attributes = append(u.Attributes, attributeJSON{Name: ColumnPasswordHash, Value: rec.PasswordHash})
	}
	if rec.MFAEnabled != nil {
		u.Attributes = append(u.Attributes, attributeJSON{Name: ColumnMFAEnabled, Value: strconv.FormatBool(*rec.MFAEnabled)})
	}
	if !rec.CreatedAt.IsZero() {
		u.UserCreateDate = rec.CreatedAt.UTC().Format(time.RFC3339Nano)
	}
	if rec.GroupsKnown {
		groups := make([]groupOut, 0, len(rec.Groups))
		for _, g := range rec.Groups {
			groups = append(groups, groupOut{GroupName: g.Name, Description: g.Description, Precedence: g.Precedence})
		}
		u.Groups = &groups
	}
	// One user per line; Encode ends the line.
	return json.NewEncoder(w).Encode(u)
}

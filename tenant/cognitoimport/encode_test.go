package cognitoimport

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// WriteJSON must lose nothing a Record holds: cognate migrate splits files
// with it.
func TestWriteJSONRoundTrip(t *testing.T) {
	csvFile := cognitoHeader + ",cognate:password_hash\n" +
		`Jane Roe,Jane,Roe,,,,,,,jane@example.com,true,,12/31/1999,,nl,,false,1 Main St\, Springfield,1471453471,2016,true,jane,$2b$10$x` + "\n" +
		"Bob,,,,,,,,,bob@example.com,TRUE,,,,,,,,,,FALSE,bob,\n"
	jsonFile := `{"Users":[` + annUserType + `,` + bobUserType + `]}` + carolAdminGetUser +
		`{"Username":"dave","Groups":[{"GroupName":"admins","Precedence":0,"Description":"<Admins & co>"}],"Attributes":[{"Name":"given_name","Value":""}]}` +
		`{"Username":"erin","Groups":[]}`
	for _, tc := range []struct {
		name string
		open func() (Reader, error)
	}{
		{"csv", func() (Reader, error) { return NewCSVReader(strings.NewReader(csvFile)) }},
		{"json", func() (Reader, error) { return NewJSONReader(strings.NewReader(jsonFile)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tc.open()
			if err != nil {
				t.Fatal(err)
			}
			want, err := readAll(r)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			for _, rec := range want {
				if err := WriteJSON(&buf, rec); err != nil {
					t.Fatal(err)
				}
			}
			if n := strings.Count(buf.String(), "\n"); n != len(want) {
				t.Errorf("%d lines for %d users", n, len(want))
			}
			back, err := NewJSONReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(back)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d records back, want %d", len(got), len(want))
			}
			for i := range want {
				w, g := want[i], got[i]
				if w.Problem() != "" {
					t.Fatalf("test data: %s", w.Problem())
				}
				w.Notes, g.Notes = nil, nil
				if !w.CreatedAt.Equal(g.CreatedAt) {
					t.Errorf("%s: created %v, back %v", w.Username, w.CreatedAt, g.CreatedAt)
				}
				w.CreatedAt = g.CreatedAt
				if len(w.Groups) == 0 && len(g.Groups) == 0 {
					w.Groups, g.Groups = nil, nil
				}
				if !reflect.DeepEqual(w, g) {
					t.Errorf("record %d:\n wrote %+v\n  read %+v", i+1, w, g)
				}
			}
		})
	}
	if err := WriteJSON(&bytes.Buffer{}, Record{Username: "x", Problems: []Reason{reason(CodeCSVUsernameEmpty)}}); !errors.Is(err, ErrRecordProblem) {
		t.Errorf("a record with a problem: %v", err)
	}
}

// A user's cognate:line, as WriteJSON writes it, is its Line; without
// one, or with one that is no line, the user is numbered by position.
func TestJSONCarriedLine(t *testing.T) {
	r, err := NewJSONReader(strings.NewReader(`{"Username":"a","cognate:line":7}` + "\n" +
		`{"Username":"b"}` + "\n" + `{"Username":"c","cognate:line":0}` + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := readAll(r)
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, rec := range recs {
		lines = append(lines, rec.Line)
	}
	if want := []int{7, 2, 3}; !reflect.DeepEqual(lines, want) {
		t.Errorf("lines %v, want %v", lines, want)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// adminCommand is one `cognate GROUP VERB` command: a client of the admin
// API that prints a summary, or the API's JSON with --json.
type adminCommand struct {
	verb    string
	args    []string // names of the positional arguments, for usage
	summary string
	// setup declares the command's own flags and returns what runs it.
	setup func(fs *flag.FlagSet, stdin io.Reader) runFunc
}

type runFunc func(ctx context.Context, c *apiClient, args []string) (output, error)

// output is what a command shows: the API's answer as it came, for --json,
// and a readable form of it.
type output struct {
	raw  []byte
	text func(w io.Writer)
}

// usageError is a command line that makes no sense; the usage is shown.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func adminGroups() map[string][]adminCommand {
	return map[string][]adminCommand{
		"tenant": tenantCommands(),
		"client": clientCommands(),
		"user":   slices.Concat(userCommands(), onboardingCommands(), mfaCommands()),
		"group":  groupCommands(),
		"audit":  auditCommands(),
		"mail":   mailCommands(),
	}
}

// adminCommandLine runs `cognate GROUP VERB [args] [flags]`.
func adminCommandLine(ctx context.Context, group string, args []string, env map[string]string, stdin io.Reader, stdout, stderr io.Writer) int {
	commands := adminGroups()[group]
	if len(args) == 0 || isHelp(args[0]) {
		w, code := stderr, exitUsage
		if len(args) > 0 {
			w, code = stdout, exitOK
		}
		writeGroupUsage(w, group, commands)
		return code
	}
	var cmd *adminCommand
	for i := range commands {
		if commands[i].verb == args[0] {
			cmd = &commands[i]
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "cognate %s: unknown command %q\n\n", group, args[0])
		writeGroupUsage(stderr, group, commands)
		return exitUsage
	}

	name := "cognate " + group + " " + cmd.verb
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var conn connection
	run := cmd.setup(fs, stdin)
	conn.register(fs, env)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s %s[flags]\n\n%s\n\nFlags:\n", name, argsUsage(cmd.args), cmd.summary)
		fs.PrintDefaults()
	}
	positional, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage // the flag package has said what was wrong
	}
	if len(positional) != len(cmd.args) {
		fmt.Fprintln(stderr, argCountProblem(name, cmd.args, positional))
		fs.Usage()
		return exitUsage
	}

	client, err := conn.client(env)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", name, err)
		return exitError
	}
	out, err := run(ctx, client, positional)
	var usage usageError
	switch {
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "%s: %s\nRun \"%s -h\" for its flags.\n", name, err, name)
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "%s: %s\n", name, err)
		return exitError
	}
	if conn.json {
		printRawJSON(stdout, out.jsonAnswer())
		return exitOK
	}
	out.text(stdout)
	return exitOK
}

// jsonAnswer is what --json prints: the API's answer, or, for an answer
// with no body (a delete, an unlock), an object saying it went well in the
// words of the text output, so that a script always reads JSON.
func (o output) jsonAnswer() []byte {
	if len(o.raw) > 0 {
		return o.raw
	}
	var text bytes.Buffer
	o.text(&text)
	raw, err := json.Marshal(struct {
		OK      bool   `json:"ok"`
		Message string `json:"message"`
	}{true, strings.TrimSpace(text.String())})
	if err != nil {
		panic(err) // a struct of a bool and a string always marshals
	}
	return raw
}

// argMeanings says what each kind of positional argument is.
var argMeanings = map[string]string{
	"SLUG":      "a tenant's slug",
	"CLIENT_ID": "a client's ID",
	"USER":      "a username or a sub",
	"NAME":      "a group's name",
	"GROUP":     "a group's name",
}

// argCountProblem says how the positional arguments of command name
// differ from the ones it takes.
func argCountProblem(name string, want, got []string) string {
	var needs []string
	for _, a := range want {
		if m := argMeanings[a]; m != "" {
			a += " (" + m + ")"
		}
		needs = append(needs, a)
	}
	given := fmt.Sprintf("got %d: %s", len(got), strings.Join(quoted(got), " "))
	switch {
	case len(want) == 0:
		return fmt.Sprintf("%s takes no arguments; %s", name, given)
	case len(got) == 0:
		return fmt.Sprintf("%s needs %s", name, strings.Join(needs, " and "))
	case len(got) < len(want):
		return fmt.Sprintf("%s needs %s; %s", name, strings.Join(needs, " and "), given)
	}
	return fmt.Sprintf("%s takes only %s; %s (put a value with spaces in quotes)", name, strings.Join(needs, " and "), given)
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

func argsUsage(args []string) string {
	var b strings.Builder
	for _, a := range args {
		b.WriteString(a + " ")
	}
	return b.String()
}

func writeGroupUsage(w io.Writer, group string, commands []adminCommand) {
	fmt.Fprintf(w, "Usage: cognate %s VERB [flags]\n\n", group)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s %s\t%s\n", c.verb, strings.TrimSpace(argsUsage(c.args)), c.summary)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\nRun \"cognate %s VERB -h\" for a command's flags.\n", group)
}

// parseInterspersed lets flags come after positional arguments, as in
// `cognate tenant create acme --name "Acme BV"`; the flag package alone
// stops at the first argument that is not a flag. After "--" everything is
// positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// stringList is a flag that may be given more than once.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// requireFlag reports a missing required flag.
func requireFlag(name, value string) error {
	if value == "" {
		return usageError{"--" + name + " is required"}
	}
	return nil
}

// checkLimit refuses a --limit the admin API would refuse: a page holds 1
// to max.
func checkLimit(limit, max int) error {
	if limit < 1 || limit > max {
		return usageError{fmt.Sprintf("--limit %d: give a whole number from 1 to %d", limit, max)}
	}
	return nil
}

// flagGiven reports whether the command line set a flag, even to "",
// which for some flags means "remove".
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// ---- readable output ----

// printFields prints label/value pairs in two aligned columns, leaving out
// empty values.
func printFields(w io.Writer, fields ...[2]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range fields {
		if f[1] != "" {
			fmt.Fprintf(tw, "%s\t%s\n", f[0], f[1])
		}
	}
	_ = tw.Flush()
}

// printTable prints rows under a header in aligned columns.
func printTable(w io.Writer, header []string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	_ = tw.Flush()
}

func field(label, value string) [2]string { return [2]string{label, value} }

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// message is the output of a command whose answer has nothing to show.
func message(raw []byte, format string, args ...any) output {
	return output{raw: raw, text: func(w io.Writer) { fmt.Fprintf(w, format+"\n", args...) }}
}

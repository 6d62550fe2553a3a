package main

import (
	"bytes"
	"cmp"
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

// adminCommand is one command of the table: `cognate GROUP VERB` (`cognate
// user get`), or a command of its own without a verb (`cognate backup`). It
// is a client of the admin API that prints a summary, or JSON with --json.
// adminCommandLine parses every command's flags, shows its usage, checks its
// arguments, its required flags and (through the command's checkFunc) the
// values of its flags before the operator token is looked up, and turns its
// errors into exit codes: in one way for all of them.
type adminCommand struct {
	verb    string
	args    []string // names of the positional arguments, for usage
	summary string
	// needsTenant registers --tenant SLUG, required: a command without it
	// is refused, in the same words for every command, before anything is
	// sent. run gets the slug as invocation.tenant.
	needsTenant bool
	// required names the command's own flags that must be given (--name,
	// --out); they are refused together with a missing --tenant.
	required []string
	// noArgsHint, for a command that takes no arguments, says where what
	// someone gave as one belongs instead: "name the file with --out".
	noArgsHint string
	// setup declares the command's own flags and returns what checks
	// their values (nil when there is nothing to check) and what runs it.
	setup func(fs *flag.FlagSet, stdin io.Reader) (checkFunc, runFunc)
}

// invocation is what the command line gave one run of a command.
type invocation struct {
	args   []string // the positional arguments, one for each of the command's args
	tenant string   // the --tenant of a command that needsTenant
	// progress is where a long command (migrate) says how it goes:
	// standard output, or nowhere with --json, whose one JSON answer
	// comes at the end.
	progress io.Writer
	// closeAtEnd takes what a check opened for run (the import's FILE):
	// runAdminCommand closes it when the command ends, whether run came to
	// use it or something failed before (no token, a wrong --ca-cert).
	closeAtEnd func(io.Closer)
}

// checkFunc checks the values of a command's flags, and reads what they
// name (a file, standard input), with no server: it runs before the
// operator token is looked up, so that a wrong value is what is said even
// where no token is configured. What it works out for run (a parsed map,
// an open file) it keeps in the setup's variables; what it opens it hands
// to in.closeAtEnd, not to run to close.
//
// Its errors, and those of the connection's flags (connection.client),
// choose the exit code by one rule, the README's: a value wrong as it was
// typed (--limit 0, --settings that is not JSON, --base-url ftp://…) is a
// usageError, exit code 2, as a command line that makes no sense; a file
// or standard input that a value names and that cannot be read, is empty,
// holds what it must not or would be overwritten is any other error, exit
// code 1, as a command that fails (valueError words a value that was read).
type checkFunc func(in invocation) error

// runFunc runs a command whose command line has passed every check.
type runFunc func(ctx context.Context, c *apiClient, in invocation) (output, error)

// output is what a command shows: the API's answer as it came, for --json,
// and a readable form of it.
type output struct {
	raw  []byte
	text func(w io.Writer)
	// failed is work that was done in part (an import with lines that
	// failed, which the output names): the exit code is 1 all the same.
	failed bool
}

// usageError is a command line that makes no sense; the usage is shown.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// valueError is msg, what is wrong with a flag's value, by the rule of
// checkFunc: a usageError when the value was typed on the command line
// (from is ""), else a plain error naming from, the file or standard
// input it was read from.
func valueError(from, msg string) error {
	if from == "" {
		return usageError{msg}
	}
	return fmt.Errorf("%s (read from %s)", msg, from)
}

// commandGroup is `cognate NAME`: a group of verbs (tenant, user, import),
// or a single command of its own whose verb is "" (backup).
type commandGroup struct {
	// kind is what the group's verbs are: "" for commands, or "source"
	// for import and migrate, whose verb names where users come from.
	kind     string
	commands []adminCommand
}

// verbless reports whether the group is a command of its own.
func (g commandGroup) verbless() bool { return len(g.commands) == 1 && g.commands[0].verb == "" }

func adminGroups() map[string]commandGroup {
	return map[string]commandGroup{
		"tenant":  {commands: tenantCommands()},
		"client":  {commands: clientCommands()},
		"user":    {commands: slices.Concat(userCommands(), onboardingCommands(), mfaCommands())},
		"group":   {commands: groupCommands()},
		"audit":   {commands: auditCommands()},
		"mail":    {commands: mailCommands()},
		"import":  {kind: "source", commands: importCommands()},
		"migrate": {kind: "source", commands: migrateCommands()},
		"backup":  {commands: []adminCommand{backupCommand()}},
	}
}

// adminCommandLine runs `cognate GROUP VERB [args] [flags]`, or `cognate
// COMMAND [args] [flags]` for a command without a verb.
func adminCommandLine(ctx context.Context, groupName string, args []string, env map[string]string, stdin io.Reader, stdout, stderr io.Writer) int {
	group := adminGroups()[groupName]
	name := "cognate " + groupName
	if group.verbless() {
		return runAdminCommand(ctx, name, group.commands[0], args, env, stdin, stdout, stderr)
	}
	if len(args) == 0 || isHelp(args[0]) {
		w, code := stderr, exitUsage
		if len(args) > 0 {
			w, code = stdout, exitOK
		}
		writeGroupUsage(w, groupName, group)
		return code
	}
	for _, cmd := range group.commands {
		if cmd.verb == args[0] {
			return runAdminCommand(ctx, name+" "+cmd.verb, cmd, args[1:], env, stdin, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "%s: unknown %s %q", name, cmp.Or(group.kind, "command"), args[0])
	if len(group.commands) == 1 {
		fmt.Fprintf(stderr, "; %s is the one there is", group.commands[0].verb)
	}
	fmt.Fprint(stderr, "\n\n")
	writeGroupUsage(stderr, groupName, group)
	return exitUsage
}

// runAdminCommand runs the command cmd, called name, with its arguments and
// flags.
func runAdminCommand(ctx context.Context, name string, cmd adminCommand, args []string, env map[string]string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var tenant *string
	if cmd.needsTenant {
		tenant = fs.String("tenant", "", "tenant slug (required)")
	}
	var conn connection
	check, run := cmd.setup(fs, stdin)
	conn.register(fs, env)
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "Usage: %s %s%s[flags]\n\n%s\n\nFlags:\n", name, requiredUsage(fs, cmd), argsUsage(cmd.args), cmd.summary)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(stderr)
	}
	// The flag package shows a flag it cannot parse on stderr; the usage
	// follows it there. Help that was asked for is the output, on stdout.
	fs.Usage = func() {}
	if cmd.verb == "" && len(args) > 0 && isHelp(args[0]) {
		usage(stdout)
		return exitOK
	}
	positional, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		usage(stdout)
		return exitOK
	}
	if err != nil {
		usage(stderr) // after the flag package's line on what was wrong
		return exitUsage
	}
	if len(positional) != len(cmd.args) {
		fmt.Fprintln(stderr, argCountProblem(name, cmd, positional))
		usage(stderr)
		return exitUsage
	}
	// What the command line lacks is refused before the connection is
	// made or anything sent, every missing flag at once.
	var missing []error
	if tenant != nil && *tenant == "" {
		missing = append(missing, usageError{"--tenant is required"})
	}
	for _, f := range cmd.required {
		if fs.Lookup(f).Value.String() == "" {
			missing = append(missing, usageError{"--" + f + valueName(fs, f, " ") + " is required"})
		}
	}
	if err := errors.Join(missing...); err != nil {
		return commandFailed(stderr, name, err)
	}
	var opened []io.Closer
	defer func() {
		for _, c := range slices.Backward(opened) {
			c.Close()
		}
	}()
	in := invocation{args: positional, progress: stdout, closeAtEnd: func(c io.Closer) { opened = append(opened, c) }}
	if tenant != nil {
		in.tenant = *tenant
	}
	if conn.json {
		in.progress = io.Discard
	}
	// Then the values of the flags given, still before the token.
	if check != nil {
		if err := check(in); err != nil {
			return commandFailed(stderr, name, err)
		}
	}
	client, err := conn.client(env)
	if err != nil {
		return commandFailed(stderr, name, err)
	}
	out, err := run(ctx, client, in)
	if err != nil {
		return commandFailed(stderr, name, err)
	}
	if conn.json {
		printRawJSON(stdout, out.jsonAnswer())
	} else {
		out.text(stdout)
	}
	if out.failed {
		return exitError
	}
	return exitOK
}

// commandFailed says what went wrong with command name, one problem a line
// each naming the command, and returns the exit code: exitUsage for a
// command line that makes no sense (a usageError), with where to read how
// to use it, else exitError.
func commandFailed(stderr io.Writer, name string, err error) int {
	for line := range strings.SplitSeq(err.Error(), "\n") {
		fmt.Fprintf(stderr, "%s: %s\n", name, line)
	}
	var usage usageError
	if errors.As(err, &usage) {
		fmt.Fprintf(stderr, "Run \"%s -h\" for its flags.\n", name)
		return exitUsage
	}
	return exitError
}

// requiredUsage is the required flags of cmd for its usage line, each
// with the name of its value: "--tenant SLUG --out FILE ".
func requiredUsage(fs *flag.FlagSet, cmd adminCommand) string {
	var b strings.Builder
	if cmd.needsTenant {
		b.WriteString("--tenant SLUG ")
	}
	for _, name := range cmd.required {
		fmt.Fprintf(&b, "--%s %s ", name, cmp.Or(valueName(fs, name, ""), strings.ToUpper(name)))
	}
	return b.String()
}

// valueName is sep and the name a flag's help gives its value in back
// quotes ("the `FILE` to write"), or "" when the help names none.
func valueName(fs *flag.FlagSet, name, sep string) string {
	f := fs.Lookup(name)
	if !strings.Contains(f.Usage, "`") {
		return ""
	}
	value, _ := flag.UnquoteUsage(f)
	return sep + value
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
	"FILE":      "a Cognito export, or - for standard input",
}

// argCountProblem says how the positional arguments of command cmd, called
// name, differ from the ones it takes.
func argCountProblem(name string, cmd adminCommand, got []string) string {
	var needs []string
	for _, a := range cmd.args {
		if m := argMeanings[a]; m != "" {
			a += " (" + m + ")"
		}
		needs = append(needs, a)
	}
	given := fmt.Sprintf("got %d: %s", len(got), strings.Join(quoted(got), " "))
	switch {
	case len(cmd.args) == 0 && cmd.noArgsHint != "":
		return fmt.Sprintf("%s takes no arguments; %s (%s)", name, given, cmd.noArgsHint)
	case len(cmd.args) == 0:
		return fmt.Sprintf("%s takes no arguments; %s", name, given)
	case len(got) == 0:
		return fmt.Sprintf("%s needs %s", name, strings.Join(needs, " and "))
	case len(got) < len(cmd.args):
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

func writeGroupUsage(w io.Writer, name string, group commandGroup) {
	verb := strings.ToUpper(cmp.Or(group.kind, "verb"))
	fmt.Fprintf(w, "Usage: cognate %s %s [flags]\n\n", name, verb)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range group.commands {
		fmt.Fprintf(tw, "  %s %s\t%s\n", c.verb, strings.TrimSpace(argsUsage(c.args)), c.summary)
	}
	_ = tw.Flush()
	if len(group.commands) == 1 {
		fmt.Fprintf(w, "\nRun \"cognate %s %s -h\" for its flags.\n", name, group.commands[0].verb)
		return
	}
	fmt.Fprintf(w, "\nRun \"cognate %s %s -h\" for a command's flags.\n", name, verb)
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

// checkLimit refuses a --limit the admin API would refuse: a page holds 1
// to max.
func checkLimit(limit, max int) error {
	if limit < 1 || limit > max {
		return usageError{fmt.Sprintf("--limit %d: give a whole number from 1 to %d", limit, max)}
	}
	return nil
}

// ruleRefusal is err, a rule of the tenant package refusing a value typed
// on the command line, as a usageError (exit code 2) in the rule's own
// words: what the server would answer, said before anything is sent. The
// check calls the rule the server applies, never a copy of it. nil stays
// nil.
func ruleRefusal(err error) error {
	if err == nil {
		return nil
	}
	return usageError{err.Error()}
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

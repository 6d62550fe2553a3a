package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/cognate-idp/cognate/tenant/bolt"
)

// `cognate backup --out FILE` fetches a consistent copy of a running
// server's data file from the admin API (GET /admin/v1/backup), checks
// every page of it, and only then puts it in place. The copy is written
// under a temporary name in FILE's directory, flushed to disk and renamed,
// so FILE is either absent or a whole, checked copy: never half of one.

const backupPath = "/admin/v1/backup"

// backupResult is what the command reports, in words or with --json.
type backupResult struct {
	File  string `json:"file"`
	Bytes int64  `json:"bytes"`
}

func backupCommand() adminCommand {
	return adminCommand{
		required: []string{"out"}, noArgsHint: "name the file with --out",
		summary: `Take a backup of a running server's data file: a copy as it stood at one
moment, taken while the server goes on serving, checked page by page before
it is kept. Restoring it needs the server key it was made with
(docs/secrets.md); keep the copy as safe as the data file itself.`,
		setup: func(fs *flag.FlagSet, _ io.Reader) (checkFunc, runFunc) {
			out := fs.String("out", "", "the `FILE` to write the backup to (required); its directory must exist")
			force := fs.Bool("force", false, "replace --out if it exists (by default an existing file is refused)")
			// Refused before anything is fetched; checked again before the
			// copy takes the name.
			check := func(invocation) error { return refuseExisting(*out, *force) }
			return check, func(ctx context.Context, c *apiClient, _ invocation) (output, error) {
				res, err := c.backup(ctx, *out, *force)
				if err != nil {
					return output{}, err
				}
				raw, err := json.Marshal(res)
				return output{raw: raw, text: func(w io.Writer) {
					fmt.Fprintf(w, "Wrote a backup of %s to %s; every page of it checked.\n", byteCount(res.Bytes), res.File)
					fmt.Fprintln(w, "It holds password hashes, and secrets sealed under the server key: keep it as safe as the data file.")
					fmt.Fprintln(w, "Restoring it needs the server key it was made with (secret_key_file; in development mode "+devSecretKeyFile+
						" next to the data file): stop the server, put the copy in the data file's place, and start the server again.")
				}}, err
			}
		},
	}
}

// refuseExisting refuses a path that exists, unless force is set; a
// directory is refused either way.
func refuseExisting(path string, force bool) error {
	info, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("--out %s: %w", path, pathProblem(err))
	case info.IsDir():
		return fmt.Errorf("--out %s is a directory; name the file to write, such as %s", path, filepath.Join(path, "cognate-backup.db"))
	case !force:
		return fmt.Errorf("--out %s exists, and was left as it is; give another file, or --force to replace it", path)
	}
	return nil
}

// backup fetches the copy into a temporary file beside out, flushes it to
// disk, checks every page (bolt.CheckCopy) and renames it to out. A copy
// that fails is removed: a backup that would not open is worse than none,
// as it is trusted until the day it is needed.
func (c *apiClient) backup(ctx context.Context, out string, force bool) (res backupResult, err error) {
	abs, err := filepath.Abs(out)
	if err != nil {
		return res, err
	}
	dir := filepath.Dir(abs)
	// Mode 0600 (CreateTemp's): the copy holds what the data file does.
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(abs)+".*.partial")
	if err != nil {
		return res, fmt.Errorf("--out %s: %w", out, pathProblem(err))
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()

	n, err := c.fetchBackup(ctx, tmp)
	if err != nil {
		return res, err
	}
	if err := tmp.Sync(); err != nil {
		return res, fmt.Errorf("writing the backup to %s: %w", dir, err)
	}
	if err := tmp.Close(); err != nil {
		return res, fmt.Errorf("writing the backup to %s: %w", dir, err)
	}
	if err := bolt.CheckCopy(tmp.Name()); err != nil {
		return res, fmt.Errorf("the copy that %s sent does not pass the check of every page, and was not kept: %w. "+
			"The server's own data file may be damaged: look at its log, and keep the backups you have", c.server, err)
	}
	if err := refuseExisting(out, force); err != nil {
		return res, err // made while the copy was fetched
	}
	if err := os.Rename(tmp.Name(), abs); err != nil {
		return res, fmt.Errorf("--out %s: %w", out, pathProblem(err))
	}
	// The rename is on disk only once the directory is.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return backupResult{File: abs, Bytes: n}, nil
}

// fetchBackup writes the server's copy to w and returns its length. A
// copy cut short (the server stopped, the connection broke) is an error:
// it is shorter than the Content-Length the server announced.
func (c *apiClient) fetchBackup(ctx context.Context, w io.Writer) (int64, error) {
	req, err := c.newRequest(ctx, http.MethodGet, backupPath, nil, "application/octet-stream, application/json")
	if err != nil {
		return 0, err
	}
	// A data file of gigabytes takes longer than the client's limit for
	// an ordinary answer; the server bounds the transfer.
	resp, err := c.streamingClient().Do(req)
	if err != nil {
		return 0, c.unreachable(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, err := c.answer(resp, http.MethodGet, backupPath, nil)
		if err == nil {
			err = fmt.Errorf("%s answered %s to GET %s, not a backup", c.server, resp.Status, backupPath)
		}
		return 0, err
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
		return 0, fmt.Errorf("%s answered GET %s with %q, not a backup (application/octet-stream): is it the Cognate server, "+
			"and of a version with backups?", c.server, backupPath, ct)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		of := "of " + byteCount(resp.ContentLength)
		if resp.ContentLength < 0 {
			of = "(of a length the answer did not say)"
		}
		return n, fmt.Errorf("the backup from %s broke off after %s %s: %w", c.server, byteCount(n), of, err)
	}
	return n, nil
}

// byteCount is n bytes for people: "1,234,567 bytes (1.2 MB)".
func byteCount(n int64) string {
	digits := fmt.Sprint(n)
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	b.WriteString(" bytes")
	const unit = 1000
	if n < unit*unit {
		return b.String()
	}
	size, prefix := float64(n)/unit/unit, "MB"
	if size >= unit {
		size, prefix = size/unit, "GB"
	}
	return fmt.Sprintf("%s (%.1f %s)", b.String(), size, prefix)
}

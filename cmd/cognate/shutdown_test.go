package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/cognate-idp/cognate/tenant/bolt"
)

// A stop while a backup is being sent to a client that takes it slowly
// (a big data file, a slow link) ends within the shutdown's bound: the
// copy is cut off at once rather than holding the stop, the client's copy
// is visibly short of its Content-Length, the server says so in one line,
// and the data file is closed as after any stop.
func TestShutdownCutsABackupShort(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "cognate.db")
	if err := startServer(t, dir).stop(); err != nil { // makes the data file and the token
		t.Fatal(err)
	}
	inflateDataFile(t, data, 64<<20)
	s := startServer(t, dir)
	token, err := os.ReadFile(s.tokenFile)
	if err != nil {
		t.Fatal(err)
	}

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.url+backupPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ContentLength < 64<<20 {
		t.Fatalf("status %s, Content-Length %d; want 200 and the inflated file's size", resp.Status, resp.ContentLength)
	}
	// Some of it, and then the client takes no more for now: the server's
	// writes fill the connection's buffers and wait.
	if _, err := io.CopyN(io.Discard, resp.Body, 1<<20); err != nil {
		t.Fatal(err)
	}
	mark := s.log.Mark()

	begun := time.Now()
	if err := s.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if took := time.Since(begun); took > shutdownTimeout {
		t.Errorf("the stop took %v, more than its bound of %v", took, shutdownTimeout)
	}

	got, err := io.Copy(io.Discard, resp.Body)
	got += 1 << 20
	if err == nil || got >= resp.ContentLength {
		t.Errorf("the client got %d of %d bytes (%v); want a copy visibly short", got, resp.ContentLength, err)
	}
	var cut []string
	for _, line := range s.log.Since(mark) {
		if strings.Contains(line, "backup") {
			cut = append(cut, line)
		}
	}
	if len(cut) != 1 || !strings.Contains(cut[0], "backup cut short: the server is shutting down") {
		t.Errorf("the log says of the backup:\n%s\nwant one line saying that the shutdown cut it short", strings.Join(cut, ""))
	}
	// Closed: bbolt's lock is free, and the file whole.
	if err := bolt.CheckCopy(data); err != nil {
		t.Errorf("the data file after the stop: %v", err)
	}
}

// inflateDataFile makes the data file at path at least size bytes long:
// a bucket of that much is written and deleted, and its pages stay in the
// file, free, and in every copy of it.
func inflateDataFile(t *testing.T, path string, size int) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	chunk := bytes.Repeat([]byte{'x'}, 1<<20)
	for i := 0; i*len(chunk) < size; i += 8 {
		err := db.Update(func(tx *bbolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("inflate"))
			if err != nil {
				return err
			}
			for j := i; j < i+8; j++ {
				if err := b.Put([]byte{byte(j >> 8), byte(j)}, chunk); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket([]byte("inflate")) }); err != nil {
		t.Fatal(err)
	}
}

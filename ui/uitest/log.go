package uitest

import (
	"bytes"
	"strings"
	"sync"
)

// Log is what a test server logged, for tests of what reaches the log:
// give it to the server's slog handler as its writer. The server writes
// from its own goroutines while the test reads.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String is everything logged so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Mark is where the log ends now, for Since.
func (l *Log) Mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Len()
}

// Since returns the lines logged after mark, an earlier Mark, leaving out
// debug lines: what one request logged.
func (l *Log) Since(mark int) []string {
	var lines []string
	for line := range strings.Lines(l.String()[mark:]) {
		if !strings.Contains(line, "level=DEBUG") {
			lines = append(lines, strings.TrimSpace(line))
		}
	}
	return lines
}

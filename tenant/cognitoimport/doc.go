// Package cognitoimport moves the users of an Amazon Cognito user pool into
// a Cognate tenant: it reads Cognito's user import CSV and JSON dumps of the
// ListUsers and AdminGetUser APIs, and writes the users in batches, one
// transaction per batch.
//
// Reading and writing are separate. A Reader (NewCSVReader, NewJSONReader)
// turns a file into Records, one at a time, so a file of a million users is
// read in constant memory. Import checks every Record before it opens a
// transaction, so a bad line fails alone and never aborts or half-writes its
// batch, and it is idempotent: running the same file again updates the users
// it created (matched by sub, else by username) and never duplicates them.
//
// What is wrong with a line, and what is worth telling about one that
// imported, is a Reason: a stable code and the values it names; so is what
// is wrong with a file as a whole (a *FileError) and a warning about one.
// Its English (Reason.String) is what the admin API and the command line
// show; the admin console words the codes in the admin's language
// (ReasonCodes lists them all).
//
// docs/import.md describes the formats for operators: the columns, the JSON
// shapes, the password hash column and how statuses are mapped.
//
// This package is domain code beside tenant: it must not import net/http,
// the admin API, the provider, the pages or a storage backend. The admin API
// and the command line are its front ends.
package cognitoimport

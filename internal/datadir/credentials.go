package datadir

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// CredentialsFile holds, in the data dir, the user and password the
// embedded NATS server requires of every client: generated once, readable
// by the data dir's owner only (0600).
const CredentialsFile = "nats.credentials.json"

// Credentials are the embedded NATS server's user and password. They are
// secrets: String and LogValue hide the password.
type Credentials struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// String describes c without its password.
func (c Credentials) String() string {
	return "datadir.Credentials{user: " + c.User + ", password: ****}"
}

// GoString is String.
func (c Credentials) GoString() string { return c.String() }

// natsUser is the user of the generated credentials.
const natsUser = "podium"

// NATSCredentials returns the embedded NATS server's credentials of data
// dir dir. With create, it generates them the first time (a random 32-byte
// password, written 0600); without, a missing file is an error wrapping
// fs.ErrNotExist. A file that others than its owner may read is refused
// with how to fix it.
func NATSCredentials(dir string, create bool) (Credentials, error) {
	path := filepath.Join(dir, CredentialsFile)
	c, err := readCredentials(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !create {
		return c, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return Credentials{}, fmt.Errorf("create data dir: %w", err)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return Credentials{}, fmt.Errorf("generate the bus credentials: %w", err)
	}
	c = Credentials{User: natsUser, Password: hex.EncodeToString(secret)}
	data, _ := json.Marshal(c)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readCredentials(path) // another process wrote them first
	}
	if err != nil {
		return Credentials{}, fmt.Errorf("write the bus credentials: %w", err)
	}
	_, err = f.Write(append(data, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return Credentials{}, fmt.Errorf("write the bus credentials %s: %w", path, err)
	}
	return c, nil
}

func readCredentials(path string) (Credentials, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("read the bus credentials: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return Credentials{}, fmt.Errorf("the bus credentials %s may be read by other users (mode %04o): run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("read the bus credentials: %w", err)
	}
	var c Credentials
	if err := json.Unmarshal(data, &c); err != nil || c.User == "" || c.Password == "" {
		return Credentials{}, fmt.Errorf("the bus credentials %s are damaged: remove the file and restart podium, which writes new ones", path)
	}
	return c, nil
}

package bus

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// Auth holds the credentials and TLS settings of an external bus. Values come
// from configuration (file or PODIUM_BUS_* variables), never from code, and
// are never logged.
type Auth struct {
	// Username and Password: NATS user/password, or Kafka SASL credentials.
	Username string
	Password string
	// Token is a NATS authentication token.
	Token string
	// CredsFile is a NATS .creds file (JWT and NKey seed).
	CredsFile string
	// SASLMechanism is the Kafka SASL mechanism: PLAIN, SCRAM-SHA-256 or
	// SCRAM-SHA-512. Empty with a Username means PLAIN.
	SASLMechanism string
	// TLS turns TLS on; the CA, certificate and key files are optional.
	TLS         bool
	TLSCAFile   string
	TLSCertFile string
	TLSKeyFile  string
	// TLSInsecureSkipVerify skips server certificate checks (testing only).
	TLSInsecureSkipVerify bool
}

// TLSConfig returns the TLS configuration a describes, or nil when TLS is off.
func (a Auth) TLSConfig() (*tls.Config, error) {
	if !a.TLS && a.TLSCAFile == "" && a.TLSCertFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: a.TLSInsecureSkipVerify} //nolint:gosec // opt-in, for tests
	if a.TLSCAFile != "" {
		pem, err := os.ReadFile(a.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("read TLS CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS CA file %s holds no PEM certificate", a.TLSCAFile)
		}
		cfg.RootCAs = pool
	}
	if a.TLSCertFile != "" || a.TLSKeyFile != "" {
		cert, err := tls.LoadX509KeyPair(a.TLSCertFile, a.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("load TLS client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

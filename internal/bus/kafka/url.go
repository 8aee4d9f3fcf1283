package kafka

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// defaultPort is the port of brokers given without one.
const defaultPort = "9092"

// ParseURL returns the seed brokers of a bus URL such as
// "kafka://host1:9092,host2:9092" (scheme kafka or redpanda). Brokers
// without a port get 9092. Credentials do not belong in the URL: they come
// from bus.Auth.
func ParseURL(u string) ([]string, error) {
	u = strings.TrimSpace(u)
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return nil, fmt.Errorf("kafka: URL %q: want kafka://host:port[,host:port...]", u)
	}
	switch strings.ToLower(scheme) {
	case "kafka", "redpanda":
	default:
		return nil, fmt.Errorf("kafka: URL %q: scheme %q, want kafka or redpanda", u, scheme)
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		return nil, fmt.Errorf("kafka: URL %q: query and fragment are not supported", u)
	}
	if i := strings.Index(rest, "/"); i >= 0 {
		if rest[i:] != "/" {
			return nil, fmt.Errorf("kafka: URL %q: path %q is not supported", u, rest[i:])
		}
		rest = rest[:i]
	}
	if strings.Contains(rest, "@") {
		return nil, fmt.Errorf("kafka: URL %q: credentials do not belong in the URL; set the bus username and password instead", redact(u))
	}
	if rest == "" {
		return nil, fmt.Errorf("kafka: URL %q: no broker", u)
	}
	var brokers []string
	for _, hp := range strings.Split(rest, ",") {
		hp = strings.TrimSpace(hp)
		if hp == "" {
			return nil, fmt.Errorf("kafka: URL %q: empty broker in list", u)
		}
		broker, err := normalizeBroker(hp)
		if err != nil {
			return nil, fmt.Errorf("kafka: URL %q: broker %q: %w", u, hp, err)
		}
		brokers = append(brokers, broker)
	}
	return brokers, nil
}

// normalizeBroker returns hp as host:port, adding the default port.
func normalizeBroker(hp string) (string, error) {
	host, port := hp, defaultPort
	// A colon outside IPv6 brackets separates the port.
	if i := strings.LastIndex(hp, ":"); i >= 0 && i > strings.LastIndex(hp, "]") {
		var err error
		if host, port, err = net.SplitHostPort(hp); err != nil {
			return "", err
		}
	} else if strings.HasPrefix(hp, "[") && strings.HasSuffix(hp, "]") {
		host = hp[1 : len(hp)-1]
	}
	if host == "" {
		return "", fmt.Errorf("missing host")
	}
	if strings.ContainsAny(host, "[]/ ") {
		return "", fmt.Errorf("invalid host %q", host)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("invalid port %q", port)
	}
	return net.JoinHostPort(host, port), nil
}

// redact hides the credentials of a URL in error messages.
func redact(u string) string {
	scheme, rest, _ := strings.Cut(u, "://")
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = "***@" + rest[i+1:]
	}
	return scheme + "://" + rest
}

package lakehouse

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	icebergio "github.com/apache/iceberg-go/io"
)

// podium's own S3 file IO for iceberg-go: the objects of one bucket read,
// written and deleted with plain HTTP requests signed with AWS Signature
// Version 4. It replaces iceberg-go's gocloud IO, whose import brought the
// whole AWS SDK, gocloud's blob drivers, OpenTelemetry and gRPC into the
// binary for four calls (GET, PUT, HEAD, DELETE).
//
// Settings, from the catalog's properties (Config) then the environment:
// the endpoint (s3.endpoint, else AWS_S3_ENDPOINT, else AWS S3 of the
// region), path-style addressing for a custom endpoint unless
// s3.force-virtual-addressing is true, the region (s3.region, client.region,
// AWS_REGION, AWS_DEFAULT_REGION, else us-east-1) and static credentials
// (s3.access-key-id and s3.secret-access-key, else AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY; a session token from s3.session-token or
// AWS_SESSION_TOKEN). Without credentials requests go unsigned (public
// buckets). Shared-config profiles and instance roles are not read.

func init() {
	for _, scheme := range []string{"s3", "s3a", "s3n"} {
		icebergio.Register(scheme, func(ctx context.Context, u *url.URL, props map[string]string) (icebergio.IO, error) {
			return newS3IO(u.Host, props)
		})
	}
}

// s3IO is the objects of one bucket.
type s3IO struct {
	bucket    string
	endpoint  *url.URL // scheme and host (and a path prefix) of the service
	pathStyle bool     // http://host/bucket/key, else http://bucket.host/key
	region    string
	creds     s3Credentials
	client    *http.Client
	now       func() time.Time
}

// s3Credentials are static credentials; empty: unsigned requests.
type s3Credentials struct {
	id, secret, token string
}

func firstSet(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func newS3IO(bucket string, props map[string]string) (*s3IO, error) {
	if bucket == "" {
		return nil, errors.New("lakehouse: s3: no bucket in the location")
	}
	region := firstSet(props[icebergio.S3Region], props[icebergio.S3ClientRegion], os.Getenv("AWS_REGION"),
		os.Getenv("AWS_DEFAULT_REGION"), "us-east-1")
	s := &s3IO{bucket: bucket, region: region, client: http.DefaultClient, now: time.Now}
	endpoint := firstSet(props[icebergio.S3EndpointURL], os.Getenv("AWS_S3_ENDPOINT"))
	if endpoint == "" {
		endpoint = "https://s3." + region + ".amazonaws.com"
	} else {
		s.pathStyle = true
	}
	if v, ok := props[icebergio.S3ForceVirtualAddressing]; ok {
		virtual, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("lakehouse: s3: %s=%q: want true or false", icebergio.S3ForceVirtualAddressing, v)
		}
		s.pathStyle = !virtual
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("lakehouse: s3: endpoint %q: want http(s)://host[:port]", endpoint)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	s.endpoint = u
	if id := props[icebergio.S3AccessKeyID]; id != "" {
		s.creds = s3Credentials{id, props[icebergio.S3SecretAccessKey], props[icebergio.S3SessionToken]}
	} else if id := os.Getenv("AWS_ACCESS_KEY_ID"); id != "" {
		s.creds = s3Credentials{id, os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")}
	}
	if s.creds.id != "" && s.creds.secret == "" {
		return nil, errors.New("lakehouse: s3: an access key id without its secret access key")
	}
	return s, nil
}

// key returns the object key of name: an s3:// URL of the bucket, or a key.
func (s *s3IO) key(name string) (string, error) {
	if scheme, rest, ok := strings.Cut(name, "://"); ok {
		bucket, key, _ := strings.Cut(rest, "/")
		switch {
		case scheme != "s3" && scheme != "s3a" && scheme != "s3n":
			return "", fmt.Errorf("lakehouse: s3: %s is not an s3:// location", name)
		case bucket != s.bucket:
			return "", fmt.Errorf("lakehouse: s3: %s is not in bucket %s", name, s.bucket)
		}
		name = key
	}
	name = strings.TrimLeft(name, "/")
	if name == "" {
		return "", fmt.Errorf("lakehouse: s3: no object key in %q", name)
	}
	return name, nil
}

// objectURL returns the URL of key.
func (s *s3IO) objectURL(key string) *url.URL {
	u := *s.endpoint
	if s.pathStyle {
		u.Path = u.Path + "/" + s.bucket + "/" + key
	} else {
		u.Host = s.bucket + "." + u.Host
		u.Path = u.Path + "/" + key
	}
	u.RawPath = escapePath(u.Path)
	return &u
}

// do sends a signed request for key and returns the response, whose body
// the caller closes. A missing object is fs.ErrNotExist; another status
// than 2xx is an error with S3's message.
func (s *s3IO) do(ctx context.Context, method, key string, body []byte, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.objectURL(key).String(), nil)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.ContentLength = int64(len(body))
	}
	s.sign(req, body)
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("lakehouse: s3 %s s3://%s/%s: %w", method, s.bucket, key, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode == http.StatusNotFound {
		return nil, &fs.PathError{Op: strings.ToLower(method), Path: "s3://" + s.bucket + "/" + key, Err: fs.ErrNotExist}
	}
	var e struct {
		Code    string
		Message string
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if xml.Unmarshal(msg, &e) == nil && e.Code != "" {
		return nil, fmt.Errorf("lakehouse: s3 %s s3://%s/%s: %s: %s (%s)", method, s.bucket, key, resp.Status, e.Code, e.Message)
	}
	return nil, fmt.Errorf("lakehouse: s3 %s s3://%s/%s: %s", method, s.bucket, key, resp.Status)
}

// emptySHA256 is the hash of an empty payload.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// sign adds the AWS Signature Version 4 headers to req (its body is body;
// nil for none). Without credentials the request stays unsigned.
func (s *s3IO) sign(req *http.Request, body []byte) {
	hash := emptySHA256
	if len(body) > 0 {
		h := sha256.Sum256(body)
		hash = hex.EncodeToString(h[:])
	}
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if s.creds.id == "" {
		return
	}
	t := s.now().UTC()
	stamp := t.Format("20060102T150405Z")
	req.Header.Set("X-Amz-Date", stamp)
	if s.creds.token != "" {
		req.Header.Set("X-Amz-Security-Token", s.creds.token)
	}
	req.Header.Set("Authorization", signV4(req, hash, s.region, s.creds, stamp))
}

// signV4 returns the Authorization header of req at stamp (its
// X-Amz-Date), whose payload hashes to hash: Signature Version 4 for S3,
// signing the host and every Range and X-Amz-* header.
func signV4(req *http.Request, hash, region string, c s3Credentials, stamp string) string {
	headers := map[string]string{"host": req.Host}
	if headers["host"] == "" {
		headers["host"] = req.URL.Host
	}
	for k, v := range req.Header {
		lk := strings.ToLower(k)
		if lk == "range" || lk == "content-md5" || strings.HasPrefix(lk, "x-amz-") {
			headers[lk] = strings.TrimSpace(strings.Join(v, ","))
		}
	}
	names := make([]string, 0, len(headers))
	for k := range headers {
		names = append(names, k)
	}
	sort.Strings(names)
	var canon strings.Builder
	canon.WriteString(req.Method + "\n" + req.URL.EscapedPath() + "\n" + canonicalQuery(req.URL.Query()) + "\n")
	for _, k := range names {
		canon.WriteString(k + ":" + headers[k] + "\n")
	}
	signed := strings.Join(names, ";")
	canon.WriteString("\n" + signed + "\n" + hash)
	day := stamp[:8]
	scope := day + "/" + region + "/s3/aws4_request"
	sum := sha256.Sum256([]byte(canon.String()))
	toSign := "AWS4-HMAC-SHA256\n" + stamp + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := hmacSHA256([]byte("AWS4"+c.secret), day)
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, "s3")
	key = hmacSHA256(key, "aws4_request")
	return "AWS4-HMAC-SHA256 Credential=" + c.id + "/" + scope + ",SignedHeaders=" + signed +
		",Signature=" + hex.EncodeToString(hmacSHA256(key, toSign))
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			parts = append(parts, uriEncode(k, true)+"="+uriEncode(v, true))
		}
	}
	return strings.Join(parts, "&")
}

// escapePath encodes a path as S3 signs it: every byte but the unreserved
// characters and '/'.
func escapePath(p string) string { return uriEncode(p, false) }

func uriEncode(s string, slash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !slash:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// Open opens an object for reading: Stat asks its size, Read streams it,
// ReadAt asks for a range.
func (s *s3IO) Open(name string) (icebergio.File, error) {
	key, err := s.key(name)
	if err != nil {
		return nil, err
	}
	info, err := s.stat(key)
	if err != nil {
		return nil, err
	}
	return &s3File{s: s, key: key, info: info}, nil
}

// Stat returns an object's size and time.
func (s *s3IO) Stat(name string) (fs.FileInfo, error) {
	key, err := s.key(name)
	if err != nil {
		return nil, err
	}
	return s.stat(key)
}

func (s *s3IO) stat(key string) (s3Info, error) {
	resp, err := s.do(context.Background(), http.MethodHead, key, nil, nil)
	if err != nil {
		return s3Info{}, err
	}
	_ = resp.Body.Close()
	mod, _ := http.ParseTime(resp.Header.Get("Last-Modified"))
	return s3Info{name: path.Base(key), size: resp.ContentLength, mod: mod}, nil
}

// ReadFile reads a whole object.
func (s *s3IO) ReadFile(name string) ([]byte, error) {
	key, err := s.key(name)
	if err != nil {
		return nil, err
	}
	resp, err := s.do(context.Background(), http.MethodGet, key, nil, nil)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	return io.ReadAll(resp.Body)
}

// Remove deletes an object (S3 answers success for a missing one).
func (s *s3IO) Remove(name string) error {
	key, err := s.key(name)
	if err != nil {
		return err
	}
	resp, err := s.do(context.Background(), http.MethodDelete, key, nil, nil)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// WriteFile writes an object in one PUT.
func (s *s3IO) WriteFile(name string, p []byte) error {
	key, err := s.key(name)
	if err != nil {
		return err
	}
	resp, err := s.do(context.Background(), http.MethodPut, key, p, nil)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// Create returns a writer that keeps the object in memory and PUTs it on
// Close (one request; S3 takes up to 5 GB so, far above the files podium
// writes).
func (s *s3IO) Create(name string) (icebergio.FileWriter, error) {
	if _, err := s.key(name); err != nil {
		return nil, err
	}
	return &s3Writer{s: s, name: name}, nil
}

type s3Writer struct {
	bytes.Buffer
	s      *s3IO
	name   string
	closed bool
}

func (w *s3Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	return w.s.WriteFile(w.name, w.Bytes())
}

// s3File is an object open for reading.
type s3File struct {
	s    *s3IO
	key  string
	info s3Info
	off  int64
	body io.ReadCloser // the stream Read reads from off, if open
}

func (f *s3File) Stat() (fs.FileInfo, error) { return f.info, nil }

func (f *s3File) Read(p []byte) (int, error) {
	if f.off >= f.info.size {
		return 0, io.EOF
	}
	if f.body == nil {
		resp, err := f.s.do(context.Background(), http.MethodGet, f.key, nil,
			http.Header{"Range": {"bytes=" + strconv.FormatInt(f.off, 10) + "-"}})
		if err != nil {
			return 0, err
		}
		f.body = resp.Body
	}
	n, err := f.body.Read(p)
	f.off += int64(n)
	if err == io.EOF && f.off < f.info.size {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (f *s3File) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		offset += f.info.size
	}
	if offset < 0 {
		return 0, fmt.Errorf("lakehouse: s3: seek to %d", offset)
	}
	if offset != f.off && f.body != nil {
		_ = f.body.Close()
		f.body = nil
	}
	f.off = offset
	return offset, nil
}

func (f *s3File) ReadAt(p []byte, off int64) (int, error) {
	if off >= f.info.size {
		return 0, io.EOF
	}
	end := min(off+int64(len(p)), f.info.size) - 1
	resp, err := f.s.do(context.Background(), http.MethodGet, f.key, nil,
		http.Header{"Range": {"bytes=" + strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(end, 10)}})
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	n, err := io.ReadFull(resp.Body, p[:end-off+1])
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return n, err
}

func (f *s3File) Close() error {
	if f.body != nil {
		err := f.body.Close()
		f.body = nil
		return err
	}
	return nil
}

// s3Info describes an object.
type s3Info struct {
	name string
	size int64
	mod  time.Time
}

func (i s3Info) Name() string       { return i.name }
func (i s3Info) Size() int64        { return i.size }
func (i s3Info) Mode() fs.FileMode  { return 0o444 }
func (i s3Info) ModTime() time.Time { return i.mod }
func (i s3Info) IsDir() bool        { return false }
func (i s3Info) Sys() any           { return nil }

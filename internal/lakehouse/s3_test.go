package lakehouse

import (
	"net/http"
	"testing"
	"time"
)

// TestSignV4 checks the signer against the example of AWS's documentation
// of Signature Version 4 for S3 ("Example: GET Object": the first ten
// bytes of examplebucket/test.txt).
func TestSignV4(t *testing.T) {
	s, err := newS3IO("examplebucket", map[string]string{"s3.region": "us-east-1",
		"s3.access-key-id": "AKIAIOSFODNN7EXAMPLE", "s3.secret-access-key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"s3.force-virtual-addressing": "true"})
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC) }
	req, err := http.NewRequest(http.MethodGet, s.objectURL("test.txt").String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if req.URL.Host != "examplebucket.s3.us-east-1.amazonaws.com" {
		t.Errorf("host %s", req.URL.Host)
	}
	req.Host = "examplebucket.s3.amazonaws.com" // the example's (global) endpoint
	req.Header.Set("Range", "bytes=0-9")
	s.sign(req, nil)
	want := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request," +
		"SignedHeaders=host;range;x-amz-content-sha256;x-amz-date," +
		"Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
	if got := req.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization\n got %s\nwant %s", got, want)
	}
}

func TestS3Addressing(t *testing.T) {
	for _, c := range []struct {
		props map[string]string
		key   string
		want  string
	}{
		{map[string]string{"s3.endpoint": "http://minio:9000"}, "a/b c+d.json", "http://minio:9000/lake/a/b%20c%2Bd.json"},
		{map[string]string{"s3.region": "eu-west-3"}, "x/y", "https://lake.s3.eu-west-3.amazonaws.com/x/y"},
	} {
		s, err := newS3IO("lake", c.props)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.objectURL(c.key).String(); got != c.want {
			t.Errorf("%v %q: %s, want %s", c.props, c.key, got, c.want)
		}
	}
	s, _ := newS3IO("lake", nil)
	if _, err := s.key("s3://other/x"); err == nil {
		t.Error("a key of another bucket accepted")
	}
	if k, err := s.key("s3a://lake/p/q"); err != nil || k != "p/q" {
		t.Errorf("key: %q, %v", k, err)
	}
}

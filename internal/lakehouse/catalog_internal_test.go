package lakehouse

import "testing"

func TestMetadataVersion(t *testing.T) {
	for _, c := range []struct {
		loc  string
		want int
	}{
		{"file:///wh/ns.db/t/metadata/00000-0b9f8d3e-5b1a-4c9e-9a51-0c1f9e0d2a11.metadata.json", 0},
		{"s3://b/p/ns.db/t/metadata/00042-0b9f8d3e-5b1a-4c9e-9a51-0c1f9e0d2a11.gz.metadata.json", 42},
		{"file:///t/metadata/123456-0b9f8d3e-5b1a-4c9e-9a51-0c1f9e0d2a11.zstd.metadata.json", 123456},
		{"file:///t/metadata/v7.metadata.json", 7},
		{"file:///t/metadata/v7.gz.metadata.json", 7},
		{"file:///t/metadata/00001-short.metadata.json", -1},
		{"file:///t/metadata/latest.metadata.json", -1},
		{"file:///t/metadata/", -1},
	} {
		if got := metadataVersion(c.loc); got != c.want {
			t.Errorf("metadataVersion(%q) = %d, want %d", c.loc, got, c.want)
		}
	}
}

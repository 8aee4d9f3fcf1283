package iceberg

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// TestZstdWindow checks that Parquet's zstd codec is podium's: frames
// declare a window of at most zstdWindow, so a decoder (and the encoder)
// keeps no more history than a page, and they decode as standard zstd.
func TestZstdWindow(t *testing.T) {
	codec, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		t.Fatal(err)
	}
	var src bytes.Buffer
	for i := 0; src.Len() < 4*zstdWindow; i++ {
		fmt.Fprintf(&src, "row %d of a page, value %d\n", i, i*i%977)
	}
	for _, level := range []int{compress.DefaultCompressionLevel, 1, 9} {
		frame := codec.(compress.ErrorCodec).EncodeLevel(nil, src.Bytes(), level)
		var h zstd.Header
		if err := h.Decode(frame); err != nil {
			t.Fatal(err)
		}
		if h.WindowSize == 0 || h.WindowSize > zstdWindow {
			t.Errorf("level %d: window of %d bytes (single segment %v), want at most %d", level, h.WindowSize, h.SingleSegment, zstdWindow)
		}
		back, err := codec.(compress.ErrorCodec).DecodeWithError(nil, frame)
		if err != nil || !bytes.Equal(back, src.Bytes()) {
			t.Errorf("level %d: decoded %d bytes, want %d: %v", level, len(back), src.Len(), err)
		}
	}
}

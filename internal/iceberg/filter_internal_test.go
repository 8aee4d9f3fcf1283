package iceberg

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// Integer bounds come from files other programs wrote: any bytes.
func FuzzDecodeIntBound(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0}, false)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}, true)
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0x80}, true)
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0x80}, false)
	f.Add([]byte{1, 2, 3}, true)
	f.Add([]byte(nil), true)
	f.Fuzz(func(t *testing.T, b []byte, long bool) {
		v, ok := decodeIntBound(long, b)
		if want := len(b) == 4 || long && len(b) == 8; ok != want {
			t.Fatalf("decodeIntBound(%v, %x): ok = %v, want %v", long, b, ok, want)
		}
		if !ok {
			return
		}
		// The value serialises back to the bytes: 4 bytes little-endian
		// for an int (and a long promoted from int), 8 for a long.
		var enc []byte
		if len(b) == 4 {
			if v != int64(int32(v)) {
				t.Fatalf("decodeIntBound(%v, %x) = %d: beyond int32", long, b, v)
			}
			enc = binary.LittleEndian.AppendUint32(nil, uint32(int32(v)))
		} else {
			enc = binary.LittleEndian.AppendUint64(nil, uint64(v))
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("decodeIntBound(%v, %x) = %d, which serialises as %x", long, b, v, enc)
		}
	})
}

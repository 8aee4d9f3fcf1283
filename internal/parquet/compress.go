package parquet

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Pages are written compressed with zstd at its default level. The
// encoders keep a window as large as a page (pageSize), not zstd's default
// 8 MiB: no back-reference reaches past the page anyway, and each encoder
// would otherwise hold a 16 MiB history (a sixth of `podium demo`'s live
// heap). The frames are standard zstd, which every reader decodes.
const zstdWindow = pageSize

var zstdEncoders = sync.Pool{New: func() any {
	enc, err := zstd.NewWriter(nil, zstd.WithZeroFrames(true), zstd.WithEncoderConcurrency(1),
		zstd.WithAllLitEntropyCompression(true), zstd.WithWindowSize(zstdWindow), zstd.WithLowerEncoderMem(true))
	if err != nil {
		panic(err) // the options are constants
	}
	return enc
}}

var zstdDecoders = sync.Pool{New: func() any {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxMemory(maxPageSize))
	if err != nil {
		panic(err) // the options are constants
	}
	return dec
}}

// compressZstd appends src compressed to dst.
func compressZstd(dst, src []byte) []byte {
	enc := zstdEncoders.Get().(*zstd.Encoder)
	defer zstdEncoders.Put(enc)
	return enc.EncodeAll(src, dst)
}

// maxPageSize bounds the uncompressed size of a page the reader accepts,
// so that a corrupt header cannot make it allocate without bound (writers
// make pages of about 1 MiB).
const maxPageSize = 256 << 20

// decompress returns the n bytes src decompresses to with codec.
func decompress(codec Codec, src []byte, n int) ([]byte, error) {
	if n < 0 || n > maxPageSize {
		return nil, fmt.Errorf("a page of %d bytes uncompressed", n)
	}
	var out []byte
	var err error
	switch codec {
	case Uncompressed:
		out = src
	case Zstd:
		dec := zstdDecoders.Get().(*zstd.Decoder)
		out, err = dec.DecodeAll(src, nil) // the frame says its size; no more than maxPageSize
		zstdDecoders.Put(dec)
	case Snappy:
		var m int
		if m, err = snappy.DecodedLen(src); err == nil {
			if m != n || n > 32*len(src) { // snappy expands at most ~21 times
				return nil, fmt.Errorf("snappy: %d bytes decoded from %d, the page header says %d", m, len(src), n)
			}
			out, err = snappy.Decode(make([]byte, n), src)
		}
	case Gzip:
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(bytes.NewReader(src)); err == nil {
			out, err = io.ReadAll(io.LimitReader(zr, int64(n)+1))
		}
	case LZ4Raw:
		if n > 256*len(src)+16 { // LZ4 expands at most ~255 times
			return nil, fmt.Errorf("lz4: a page of %d bytes, %d uncompressed", len(src), n)
		}
		out = make([]byte, n)
		var m int
		m, err = lz4.UncompressBlock(src, out)
		out = out[:max(m, 0)]
	default:
		return nil, fmt.Errorf("codec %d: %w", codec, ErrUnsupported)
	}
	if err != nil {
		return nil, fmt.Errorf("decompress a page (codec %d): %w", codec, err)
	}
	if len(out) != n {
		return nil, fmt.Errorf("a page decompressed to %d bytes, its header says %d", len(out), n)
	}
	return out, nil
}

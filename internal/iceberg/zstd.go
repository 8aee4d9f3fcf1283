package iceberg

import (
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// Parquet pages are compressed with zstd (iceberg-go's default codec). The
// Arrow codec's encoders keep zstd's default 8 MiB window, so each one
// holds a 16 MiB history buffer while podium's pages are at most 1 MiB
// (Arrow's default data and dictionary page size): `podium demo`'s lake
// sink held 16 MiB for it, a sixth of its live heap. podium registers the
// same codec with a window as large as a page: a page is compressed
// alike (no back-reference reaches further than the page itself), and
// the frames are standard zstd that any reader decodes.

// zstdWindow is the encoders' window: Arrow's default page size.
const zstdWindow = 1 << 20

// zstdCodec is Arrow's zstd codec with small-window encoders.
type zstdCodec struct {
	base interface {
		compress.ErrorCodec
		compress.StreamingCodec
	}
	mu    sync.Mutex
	pools map[zstd.EncoderLevel]*sync.Pool
}

func init() {
	base, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		return
	}
	b, ok := base.(interface {
		compress.ErrorCodec
		compress.StreamingCodec
	})
	if !ok {
		return
	}
	compress.RegisterCodec(compress.Codecs.Zstd, &zstdCodec{base: b, pools: map[zstd.EncoderLevel]*sync.Pool{}})
}

func (c *zstdCodec) pool(level zstd.EncoderLevel) *sync.Pool {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pools[level]
	if p == nil {
		p = &sync.Pool{New: func() any {
			enc, err := zstd.NewWriter(nil, zstd.WithZeroFrames(true), zstd.WithEncoderLevel(level), zstd.WithEncoderConcurrency(1),
				zstd.WithAllLitEntropyCompression(true), zstd.WithWindowSize(zstdWindow), zstd.WithLowerEncoderMem(true))
			if err != nil {
				panic(err) // the options are constants
			}
			return enc
		}}
		c.pools[level] = p
	}
	return p
}

// Encode compresses src at zstd's default level.
func (c *zstdCodec) Encode(dst, src []byte) []byte {
	return c.EncodeLevel(dst, src, compress.DefaultCompressionLevel)
}

// EncodeLevel compresses src at level (Arrow's mapping of zstd levels).
func (c *zstdCodec) EncodeLevel(dst, src []byte, level int) []byte {
	l := zstd.SpeedDefault
	if level != compress.DefaultCompressionLevel {
		l = zstd.EncoderLevelFromZstd(level)
	}
	p := c.pool(l)
	enc := p.Get().(*zstd.Encoder)
	defer p.Put(enc)
	return enc.EncodeAll(src, dst[:0])
}

func (c *zstdCodec) CompressBound(n int64) int64 { return c.base.CompressBound(n) }
func (c *zstdCodec) Decode(dst, src []byte) []byte {
	return c.base.Decode(dst, src)
}
func (c *zstdCodec) DecodeWithError(dst, src []byte) ([]byte, error) {
	return c.base.DecodeWithError(dst, src)
}
func (c *zstdCodec) NewReader(r io.Reader) io.ReadCloser  { return c.base.NewReader(r) }
func (c *zstdCodec) NewWriter(w io.Writer) io.WriteCloser { return c.base.NewWriter(w) }
func (c *zstdCodec) NewWriterLevel(w io.Writer, level int) (io.WriteCloser, error) {
	return c.base.NewWriterLevel(w, level)
}

package parquet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// The RLE / bit-packing hybrid encoding of definition levels, dictionary
// indices and RLE booleans
// (https://parquet.apache.org/docs/file-format/data-pages/encodings/#run-length-encoding--bit-packing-hybrid-rle--3).

var errRLE = errors.New("malformed RLE/bit-packed data")

// appendRLE appends vals (each < 1<<width) as RLE runs only: what the
// definition levels of flat columns are, long runs of ones.
func appendRLE(b []byte, vals []uint8, width int) []byte {
	size := (width + 7) / 8
	for i := 0; i < len(vals); {
		j := i + 1
		for j < len(vals) && vals[j] == vals[i] {
			j++
		}
		b = binary.AppendUvarint(b, uint64(j-i)<<1)
		b = append(b, vals[i])
		for range size - 1 {
			b = append(b, 0)
		}
		i = j
	}
	return b
}

// decodeRLE decodes n values of width bits from b into out (reused when
// large enough).
func decodeRLE(b []byte, width, n int, out []uint32) ([]uint32, error) {
	if width < 0 || width > 32 {
		return nil, fmt.Errorf("%w: bit width %d", errRLE, width)
	}
	out = out[:0]
	if n < 0 {
		return nil, fmt.Errorf("%w: %d values", errRLE, n)
	}
	size := (width + 7) / 8
	for len(out) < n {
		h, k := binary.Uvarint(b)
		if k <= 0 {
			return nil, fmt.Errorf("%w: %d of %d values, then a bad run header", errRLE, len(out), n)
		}
		b = b[k:]
		if h&1 == 0 { // an RLE run
			count := h >> 1
			if len(b) < size {
				return nil, fmt.Errorf("%w: truncated run", errRLE)
			}
			var v uint32
			for i := range size {
				v |= uint32(b[i]) << (8 * i)
			}
			b = b[size:]
			if width < 32 && v>>width != 0 {
				return nil, fmt.Errorf("%w: run value %d wider than %d bits", errRLE, v, width)
			}
			if count > uint64(n-len(out)) {
				count = uint64(n - len(out)) // a run may cover padding
			}
			for range count {
				out = append(out, v)
			}
			continue
		}
		groups := h >> 1
		if groups > uint64(len(b)) {
			return nil, fmt.Errorf("%w: bit-packed run longer than the data", errRLE)
		}
		nbytes := int(groups) * width
		if nbytes > len(b) {
			return nil, fmt.Errorf("%w: bit-packed run longer than the data", errRLE)
		}
		out = unpack(out, b[:nbytes], width, min(int(groups)*8, n-len(out)))
		b = b[nbytes:]
	}
	return out, nil
}

// unpack appends n values of width bits packed LSB first in b.
func unpack(out []uint32, b []byte, width, n int) []uint32 {
	if width == 0 {
		for range n {
			out = append(out, 0)
		}
		return out
	}
	var acc uint64
	var have int
	mask := uint64(1)<<width - 1
	for i := 0; n > 0; {
		for have < width {
			acc |= uint64(b[i]) << have
			i++
			have += 8
		}
		out = append(out, uint32(acc&mask))
		acc >>= width
		have -= width
		n--
	}
	return out
}

// bitWidth is the number of bits needed for values up to max.
func bitWidth(max int) int { return bits.Len(uint(max)) }

//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package datadir

import (
	"errors"
	"os"
)

// tryLock is not implemented on this platform.
func tryLock(*os.File) (bool, error) {
	return false, errors.ErrUnsupported
}

func alive(pid int) bool { return pid > 0 }

package kafka

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"
)

// levelTrace is below slog.LevelDebug: franz-go's debug messages.
const levelTrace = slog.LevelDebug - 4

// kgoLogger sends franz-go's logs to slog. franz-go's info messages (group
// joins, metadata changes) go to debug, its debug messages below that; its
// warnings too while quiet is set (nil: never).
type kgoLogger struct {
	l     *slog.Logger
	quiet *atomic.Bool
}

func (k kgoLogger) Level() kgo.LogLevel {
	ctx := context.Background()
	switch {
	case k.l.Enabled(ctx, levelTrace):
		return kgo.LogLevelDebug
	case k.l.Enabled(ctx, slog.LevelDebug):
		return kgo.LogLevelInfo
	case k.l.Enabled(ctx, slog.LevelWarn):
		return kgo.LogLevelWarn
	case k.l.Enabled(ctx, slog.LevelError):
		return kgo.LogLevelError
	default:
		return kgo.LogLevelNone
	}
}

func (k kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	var l slog.Level
	switch level {
	case kgo.LogLevelError:
		l = slog.LevelError
	case kgo.LogLevelWarn:
		l = slog.LevelWarn
		if k.quiet != nil && k.quiet.Load() {
			l = slog.LevelDebug
		}
	case kgo.LogLevelInfo:
		l = slog.LevelDebug
	default:
		l = levelTrace
	}
	k.l.Log(context.Background(), l, msg, keyvals...)
}

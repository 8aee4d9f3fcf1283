package kafka

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/podiumhq/podium/internal/bus"
)

// Topics lists the non-internal topics with their partition offsets and
// retention, sorted by name. Bytes is the size of the leader replicas as
// the brokers report it (DescribeLogDirs), or 0 where they do not.
func (b *Bus) Topics(ctx context.Context) ([]bus.TopicInfo, error) {
	if b.closed.Load() {
		return nil, bus.ErrClosed
	}
	md, err := b.metadata(ctx)
	if err != nil {
		return nil, fmt.Errorf("kafka: list topics: %w", err)
	}
	leaders := map[string]map[int32]int32{}
	var names []string
	for _, t := range md.Topics {
		if t.Topic == nil || t.IsInternal {
			continue
		}
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			b.log.Debug("skipping topic in listing", "topic", *t.Topic, "err", err)
			continue
		}
		names = append(names, *t.Topic)
		ls := make(map[int32]int32, len(t.Partitions))
		for _, p := range t.Partitions {
			ls[p.Partition] = p.Leader
		}
		leaders[*t.Topic] = ls
	}
	if len(names) == 0 {
		return nil, nil
	}
	starts, err := b.adm.ListStartOffsets(ctx, names...)
	if err != nil && !isShardErr(err) {
		return nil, fmt.Errorf("kafka: list start offsets: %w", mapClosed(err))
	}
	ends, err := b.adm.ListEndOffsets(ctx, names...)
	if err != nil && !isShardErr(err) {
		return nil, fmt.Errorf("kafka: list end offsets: %w", mapClosed(err))
	}
	configs, err := b.adm.DescribeTopicConfigs(ctx, names...)
	if err != nil && !isShardErr(err) {
		return nil, fmt.Errorf("kafka: describe topic configs: %w", mapClosed(err))
	}
	sizes := b.leaderSizes(ctx, leaders)

	infos := make([]bus.TopicInfo, 0, len(names))
	for _, name := range names {
		ti := bus.TopicInfo{Name: name}
		gone := false
		for p, end := range ends[name] {
			if end.Err != nil {
				if errors.Is(end.Err, kerr.UnknownTopicOrPartition) {
					gone = true // deleted since we listed it
					break
				}
				b.log.Debug("no end offset", "topic", name, "partition", p, "err", end.Err)
				continue
			}
			pi := bus.PartitionInfo{ID: p, Start: end.Offset, End: end.Offset}
			if start, ok := starts.Lookup(name, p); ok && start.Err == nil {
				pi.Start = start.Offset
			}
			ti.Partitions = append(ti.Partitions, pi)
			ti.Messages += max(pi.End-pi.Start, 0)
			ti.Bytes += sizes[name][p]
		}
		if gone {
			continue
		}
		sort.Slice(ti.Partitions, func(i, j int) bool { return ti.Partitions[i].ID < ti.Partitions[j].ID })
		if rc, err := configs.On(name, nil); err == nil && rc.Err == nil {
			for _, c := range rc.Configs {
				if c.Value == nil {
					continue
				}
				v, err := strconv.ParseInt(*c.Value, 10, 64)
				if err != nil || v < 0 {
					continue
				}
				switch c.Key {
				case "retention.ms":
					ti.MaxAge = time.Duration(v) * time.Millisecond
				case "retention.bytes":
					ti.MaxBytes = v
				}
			}
		}
		infos = append(infos, ti)
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name < infos[j].Name })
	return infos, nil
}

// leaderSizes returns the size of each partition's leader replica, where the
// brokers report log directories; it returns nothing (and logs) where not.
func (b *Bus) leaderSizes(ctx context.Context, leaders map[string]map[int32]int32) map[string]map[int32]int64 {
	set := make(kadm.TopicsSet, len(leaders))
	for t, ps := range leaders {
		for p := range ps {
			set.Add(t, p)
		}
	}
	dirs, err := b.adm.DescribeAllLogDirs(ctx, set)
	if err != nil && !isShardErr(err) {
		b.log.Debug("describe log dirs failed; topic sizes unknown", "err", err)
		return nil
	}
	sizes := make(map[string]map[int32]int64, len(leaders))
	for t, ps := range leaders {
		ts := make(map[int32]int64, len(ps))
		for p, leader := range ps {
			if d, ok := dirs[leader]; ok {
				if dp, ok := d.LookupPartition(t, p); ok && dp.Size > 0 {
					ts[p] = dp.Size
				}
			}
		}
		sizes[t] = ts
	}
	return sizes
}

func isShardErr(err error) bool {
	var se *kadm.ShardErrors
	return errors.As(err, &se) && !se.AllFailed
}

// Groups lists the consumer groups that committed offsets on topic or have
// members assigned to it, sorted by name. Lag counts, per partition, the
// messages from the committed offset (or from the oldest kept message
// without a commit) to the end.
func (b *Bus) Groups(ctx context.Context, topic string) ([]bus.GroupInfo, error) {
	if b.closed.Load() {
		return nil, bus.ErrClosed
	}
	ends, err := b.endOffsets(ctx, topic)
	if err != nil {
		return nil, err
	}
	starts, err := b.adm.ListStartOffsets(ctx, topic)
	if err != nil && !isShardErr(err) {
		return nil, fmt.Errorf("kafka: list start offsets of %q: %w", topic, mapClosed(err))
	}
	listed, err := b.adm.ListGroups(ctx)
	if err != nil {
		if !isShardErr(err) {
			return nil, fmt.Errorf("kafka: list groups: %w", mapClosed(err))
		}
		b.log.Warn("some brokers did not list their groups", "err", err)
	}
	names := listed.Groups()
	if len(names) == 0 {
		return nil, nil
	}
	fetched := b.adm.FetchManyOffsets(ctx, names...)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Members' assignments show groups that read topic but did not
	// commit yet. Only classic groups can be described this way.
	described, err := b.adm.DescribeGroups(ctx, names...)
	if err != nil && !isShardErr(err) {
		b.log.Debug("describe groups failed; listing groups with commits only", "err", err)
	}

	var infos []bus.GroupInfo
	for _, name := range names {
		var committed map[int32]kadm.OffsetResponse
		if r, ok := fetched[name]; ok && r.Err == nil {
			committed = r.Fetched[topic]
		}
		gi := bus.GroupInfo{Group: name, Topic: topic, Next: map[int32]int64{}}
		for p, c := range committed {
			if c.Err == nil && c.At >= 0 {
				gi.Next[p] = c.At
			}
		}
		if len(gi.Next) == 0 && !assigned(described, name, topic) {
			continue
		}
		for p, end := range ends {
			from, ok := gi.Next[p]
			if !ok {
				from = 0
				if s, ok := starts.Lookup(topic, p); ok && s.Err == nil {
					from = s.Offset
				}
			}
			gi.Lag += max(end-from, 0)
		}
		infos = append(infos, gi)
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Group < infos[j].Group })
	return infos, nil
}

// assigned reports whether a member of group is assigned topic.
func assigned(described kadm.DescribedGroups, group, topic string) bool {
	g, ok := described[group]
	if !ok || g.Err != nil {
		return false
	}
	_, ok = g.AssignedPartitions()[topic]
	return ok
}

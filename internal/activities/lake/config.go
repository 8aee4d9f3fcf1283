package lake

import (
	"errors"
	"net/url"
	"path/filepath"
	"time"

	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/lakehouse"
)

// The sink's settings.
const (
	KeyEnabled           = "lakehouse.enabled"
	KeyWarehouse         = "lakehouse.warehouse"
	KeyS3Endpoint        = "lakehouse.s3_endpoint"
	KeyS3Region          = "lakehouse.s3_region"
	KeyS3AccessKeyID     = "lakehouse.s3_access_key_id"
	KeyS3SecretAccessKey = "lakehouse.s3_secret_access_key"
	KeyMaxEvents         = "lakehouse.max_events"
	KeyCommitInterval    = "lakehouse.commit_interval"
	KeyRetention         = "lakehouse.snapshot_retention"
	KeyCompactFiles      = "lakehouse.compact_files"
)

// Settings declares the sink's settings, to register before loading the
// configuration.
func Settings() []config.Setting {
	return []config.Setting{
		{Key: KeyEnabled, Kind: config.KindBool, Default: "true",
			Usage: "run the activities-lakehouse sink (Iceberg bronze, silver and gold tables)"},
		{Key: KeyWarehouse, Flag: "warehouse", LocalFlag: true,
			Usage: `Iceberg warehouse: a directory (default "warehouse" in the data dir) or s3://bucket/prefix`,
			Check: func(v string) error { _, err := lakehouse.WarehouseURL(v); return err }},
		{Key: KeyS3Endpoint, Usage: "S3-compatible endpoint (MinIO, Ceph...), e.g. http://minio:9000; empty for AWS S3",
			Check: func(v string) error {
				if u, err := url.Parse(v); err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
					return errors.New("use an http:// or https:// URL such as http://minio:9000")
				}
				return nil
			}},
		{Key: KeyS3Region, Usage: "S3 region; empty takes AWS_REGION"},
		{Key: KeyS3AccessKeyID, Usage: "S3 access key id; empty takes the AWS default credential chain"},
		{Key: KeyS3SecretAccessKey, Secret: true, Usage: "S3 secret access key"},
		{Key: KeyMaxEvents, Kind: config.KindInt, Default: "10000",
			Usage: "most change events per lakehouse commit (each batch costs three Iceberg commits)"},
		{Key: KeyCommitInterval, Kind: config.KindDuration, Default: "10s",
			Usage: "least time between two lakehouse commits unless lakehouse.max_events is reached; the first event after a quiet interval is written at once",
			Check: func(v string) error {
				if d, err := time.ParseDuration(v); err == nil && d <= 0 {
					return errors.New("use a positive duration such as 10s")
				}
				return nil
			}},
		{Key: KeyRetention, Kind: config.KindDuration, Default: "1h",
			Usage: "how far back time travel reaches: older snapshots are expired every 5 minutes (the last 10 are kept); 0 keeps them all"},
		{Key: KeyCompactFiles, Kind: config.KindInt, Default: "32",
			Usage: "compact a lakehouse table's small data files and merge its manifests once it has more than this many (checked every 5 minutes); 0 never"},
	}
}

// Enabled reports whether the sink is to run.
func Enabled(cfg config.Config) bool { return cfg.Get(KeyEnabled).Bool() }

// LakeConfig returns where the lake is, from the loaded configuration: the
// warehouse defaults to warehouse/ in the data dir.
func LakeConfig(cfg config.Config) lakehouse.Config {
	wh := cfg.Get(KeyWarehouse).String()
	if wh == "" {
		wh = filepath.Join(cfg.DataDir, "warehouse")
	}
	return lakehouse.Config{
		Warehouse:         wh,
		S3Endpoint:        cfg.Get(KeyS3Endpoint).String(),
		S3Region:          cfg.Get(KeyS3Region).String(),
		S3AccessKeyID:     cfg.Get(KeyS3AccessKeyID).String(),
		S3SecretAccessKey: cfg.Get(KeyS3SecretAccessKey).String(),
	}
}

// FromConfig returns the sink's Config (the settings of Settings must be
// registered); the caller sets Policy.
func FromConfig(cfg config.Config) Config {
	return Config{
		Lake:           LakeConfig(cfg),
		MaxEvents:      int(cfg.Get(KeyMaxEvents).Int()),
		CommitInterval: cfg.Get(KeyCommitInterval).Duration(),
		Retention:      orNever(cfg.Get(KeyRetention).Duration()),
		CompactFiles:   int(orNever(cfg.Get(KeyCompactFiles).Int())),
	}
}

// orNever maps a setting's 0 ("never") to Config's -1 (0 there is the
// default).
func orNever[T int64 | time.Duration](v T) T {
	if v == 0 {
		return -1
	}
	return v
}

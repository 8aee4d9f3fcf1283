package payroll

import (
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"
)

// WriteXLSX writes the export as an Excel workbook: a sheet "Payroll" of
// the rows (numbers as numbers, the bonus in a 0.00 format), a sheet
// "About" of the metadata, and the metadata again in the document's
// properties (core: title, subject, keywords, description; custom:
// podium.snapshot_id, podium.rules_version, podium.checksum) where
// payroll and document-management tools read them. The document's
// created and modified dates are the snapshot's commit time, so that the
// same snapshot gives the same bytes.
func (e Export) WriteXLSX(w io.Writer) (err error) {
	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write payroll workbook: %w", cerr)
		}
	}()
	fail := func(err error) error { return fmt.Errorf("write payroll workbook: %w", err) }
	const sheet = "Payroll"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return fail(err)
	}
	money, err := f.NewStyle(&excelize.Style{NumFmt: 2}) // 0.00
	if err != nil {
		return fail(err)
	}
	recs := e.records()
	for i, rec := range recs {
		row := make([]any, len(rec))
		for j, v := range rec {
			row[j] = v
		}
		if i > 0 {
			r := e.Rows[i-1]
			row[1], row[3], row[11] = e.Year, int(r.Activities), int(r.WellnessDays)
			row[4] = float64(r.Meters) / 1000
			if r.CommuteKm != nil {
				row[7] = *r.CommuteKm
			}
			row[9] = r.BonusEligible
			row[10] = r.Bonus.EUR()
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &row); err != nil {
			return fail(err)
		}
	}
	if len(recs) > 1 {
		top, _ := excelize.CoordinatesToCellName(11, 2)
		bottom, _ := excelize.CoordinatesToCellName(11, len(recs))
		if err := f.SetCellStyle(sheet, top, bottom, money); err != nil {
			return fail(err)
		}
	}
	m := e.Meta()
	about := [][]any{{"key", "value"}, {"format", m.Format}, {"version", m.Version}, {"year", m.Year},
		{"table", m.Table}, {"snapshot_id", strconv.FormatInt(m.SnapshotID, 10)}, {"snapshot_time", m.SnapshotTime},
		{"tag", m.Tag}, {"rules_version", m.RulesVersion}, {"rules_recorded", m.RulesRecorded}, {"employees", m.Employees},
		{"bonus_total_eur", m.BonusTotalEUR}, {"wellness_days_total", m.WellnessDays}, {"checksum", m.Checksum},
		{"checksum_of", m.ChecksumOf}}
	if _, err := f.NewSheet("About"); err != nil {
		return fail(err)
	}
	for i, row := range about {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("About", cell, &row); err != nil {
			return fail(err)
		}
	}
	when := m.SnapshotTime
	if len(when) > 19 {
		when = when[:19] + "Z" // W3CDTF to the second
	}
	if err := f.SetDocProps(&excelize.DocProperties{
		Title:       fmt.Sprintf("podium payroll export %d", e.Year),
		Subject:     fmt.Sprintf("sports bonus and wellness days %d, %s snapshot %d", e.Year, m.Table, m.SnapshotID),
		Keywords:    fmt.Sprintf("snapshot_id=%d; rules_version=%s; checksum=%s", m.SnapshotID, m.RulesVersion, m.Checksum),
		Description: "checksum: SHA-256 of " + m.ChecksumOf + "; the About sheet has every metadata field",
		Identifier:  m.Tag, Creator: "podium", LastModifiedBy: "podium", Created: when, Modified: when,
		Category: m.Format, Version: strconv.Itoa(m.Version),
	}); err != nil {
		return fail(err)
	}
	for _, p := range []excelize.CustomProperty{
		{Name: "podium.snapshot_id", Value: strconv.FormatInt(m.SnapshotID, 10)},
		{Name: "podium.rules_version", Value: m.RulesVersion},
		{Name: "podium.checksum", Value: m.Checksum},
		{Name: "podium.year", Value: int32(m.Year)},
	} {
		if err := f.SetCustomProps(p); err != nil {
			return fail(err)
		}
	}
	if _, err := f.WriteTo(w); err != nil {
		return fail(err)
	}
	return nil
}

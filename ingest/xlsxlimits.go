package ingest

import (
	"archive/zip"
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Workbook limits. Reading streams each sheet from a temporary file, so
// memory does not grow with the sheets; what excelize keeps in memory is
// bounded here before it opens the workbook: the parts other than large
// sheets, the index of the shared strings table (about 40 bytes a string)
// and the longest cell and row.
const (
	// DefaultMaxWorkbookSize is what a workbook may unpack to in all.
	DefaultMaxWorkbookSize = 2 << 30
	// DefaultMaxSharedStrings is how many distinct texts a workbook may
	// hold.
	DefaultMaxSharedStrings = 1_000_000

	// streamPart is the size above which a sheet or the shared strings
	// table is unpacked to a temporary file rather than kept in memory.
	streamPart = 1 << 20
	// maxInMemory bounds the parts kept in memory, all together.
	maxInMemory = 16 << 20
	// maxToken bounds one cell's text or one tag (a spreadsheet cell holds
	// at most 32,767 characters).
	maxToken = 1 << 20
	// maxRowText bounds the text of one row, shared strings counted at
	// the size of the longest.
	maxRowText = 32 << 20
)

// checkWorkbook reads the workbook's directory and streams its sheets and
// shared strings once, a block at a time, and returns why it is refused,
// or "" when it is within the limits.
func checkWorkbook(f *os.File, maxSize int64, maxStrings int) (string, error) {
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	zr, err := zip.NewReader(f, fi.Size())
	if err != nil {
		return fmt.Sprintf("not a readable XLSX workbook: %v", err), nil
	}
	var total, inMemory uint64
	var sst *zip.File
	var sheets []*zip.File
	for _, e := range zr.File {
		total += e.UncompressedSize64
		if total > uint64(maxSize) || total < e.UncompressedSize64 {
			return fmt.Sprintf("workbook unpacks to more than the %s limit; split it into smaller workbooks or send it as CSV", sizeText(maxSize)), nil
		}
		name := strings.ToLower(strings.ReplaceAll(e.Name, "\\", "/"))
		isSST := name == "xl/sharedstrings.xml"
		isSheet := strings.HasPrefix(name, "xl/worksheets/sheet")
		switch {
		case isSST:
			sst = e
		case isSheet:
			sheets = append(sheets, e)
		}
		if !(isSST || isSheet) || e.UncompressedSize64 <= streamPart {
			inMemory += e.UncompressedSize64
		}
	}
	if inMemory > maxInMemory {
		return fmt.Sprintf("workbook parts other than its sheets (styles, pictures, small sheets) unpack to %s, over the %s limit; send the data as CSV", sizeText(int64(inMemory)), sizeText(maxInMemory)), nil
	}
	var longest int64
	if sst != nil {
		s, err := scanPart(sst, 0)
		if err != nil {
			return fmt.Sprintf("not a readable XLSX workbook: shared strings: %v", err), nil
		}
		if s.refused != "" {
			return s.refused, nil
		}
		if s.items > maxStrings {
			return fmt.Sprintf("workbook holds %d distinct texts, over the limit of %d; split it into smaller workbooks or send it as CSV", s.items, maxStrings), nil
		}
		longest = s.longestItem
	}
	for _, e := range sheets {
		s, err := scanPart(e, longest)
		if err != nil {
			return fmt.Sprintf("not a readable XLSX workbook: %s: %v", e.Name, err), nil
		}
		if s.refused != "" {
			return s.refused, nil
		}
	}
	return "", nil
}

// partStats is what scanPart learns of one XML part.
type partStats struct {
	items       int   // <si> elements (shared strings)
	longestItem int64 // bytes of the longest <si> element
	refused     string
}

// scanPart streams one XML part and measures its tags, texts and rows
// without parsing it: excelize's XML decoder holds a whole text or tag in
// memory, and a whole row.
func scanPart(e *zip.File, sharedItem int64) (partStats, error) {
	var s partStats
	rc, err := e.Open()
	if err != nil {
		return s, err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 64<<10)
	const (
		text = iota
		tag
		special // <!-- -->, <![CDATA[ ]]>, <!DOCTYPE>, <?xml ?>
	)
	var (
		state             = text
		pos, runStart     int64
		quote             byte
		name              []byte
		naming, closing   bool
		siStart, rowStart int64 = -1, -1
		cells             int64
		last2             [2]byte
		rowNum            int
	)
	endRow := func() {
		if rowStart >= 0 && pos-rowStart+cells*sharedItem > maxRowText && s.refused == "" {
			s.refused = fmt.Sprintf("a row of the workbook (row %d of a sheet) holds more than %s of text; send the data as CSV", rowNum, sizeText(maxRowText))
		}
		rowStart, cells = -1, 0
	}
	element := func() {
		local := name
		if i := strings.LastIndexByte(string(name), ':'); i >= 0 {
			local = name[i+1:]
		}
		switch string(local) {
		case "si":
			if closing {
				if siStart >= 0 {
					s.longestItem = max(s.longestItem, pos-siStart)
				}
			} else {
				s.items++
				siStart = pos
			}
		case "row":
			endRow()
			if !closing {
				rowStart = pos
				rowNum++
			}
		case "c":
			if !closing {
				cells++
			}
		}
	}
	for {
		c, err := br.ReadByte()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return s, err
		}
		pos++
		if pos-runStart > maxToken {
			s.refused = fmt.Sprintf("a cell or tag of the workbook holds more than %s (a cell holds at most 32,767 characters); the workbook is damaged or not from a spreadsheet program", sizeText(maxToken))
			return s, nil
		}
		switch state {
		case text:
			if c == '<' {
				state, runStart, naming, closing, name = tag, pos, true, false, name[:0]
			}
		case tag:
			switch {
			case quote != 0:
				if c == quote {
					quote = 0
				}
			case c == '"' || c == '\'':
				quote = c
			case naming && len(name) == 0 && c == '/':
				closing = true
			case naming && len(name) == 0 && (c == '!' || c == '?'):
				state, naming = special, false
				last2 = [2]byte{}
			case c == '>':
				if naming {
					element()
				}
				state, runStart, naming = text, pos, false
			case naming && (c == ' ' || c == '/' || c == '\t' || c == '\n' || c == '\r'):
				naming = false
				element()
			case naming:
				if len(name) < 32 {
					name = append(name, c)
				}
			}
		case special:
			// Ends at "-->", "]]>" or, for declarations, the first ">".
			if c == '>' && (last2 == [2]byte{'-', '-'} || last2 == [2]byte{']', ']'} || !inCommentOrCDATA(name)) {
				state, runStart = text, pos
			}
			if len(name) < 8 {
				name = append(name, c)
			}
			last2 = [2]byte{last2[1], c}
		}
		if s.refused != "" {
			return s, nil
		}
	}
	endRow()
	return s, nil
}

// inCommentOrCDATA reports whether a "<!" construct starting with the
// bytes b is a comment or CDATA section, which only "-->" or "]]>" end.
func inCommentOrCDATA(b []byte) bool {
	s := string(b)
	return strings.HasPrefix(s, "--") || strings.HasPrefix(s, "[CDATA[") || s == "-" || (len(s) < 7 && strings.HasPrefix("[CDATA[", s))
}

// sizeText writes a byte count for people: 2 GiB, 16 MiB, 1.5 GiB.
func sizeText(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		switch {
		case n >= u.size && n%u.size == 0:
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		case n >= u.size:
			return fmt.Sprintf("%.1f %s", float64(n)/float64(u.size), u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

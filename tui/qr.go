package tui

import (
	"strings"

	"charm.land/lipgloss/v2"
	qrcode "github.com/skip2/go-qrcode"
)

// qrQuiet is the quiet zone around a QR code, in modules. The standard
// asks for 4; 2 scans well on a screen and saves rows.
const qrQuiet = 2

// QR draws text as a QR code in half-block characters, two module rows
// per text row. Light modules are drawn as blocks, so that the code reads
// right on the dark background of most terminals; with colour it also sets
// black on white, so that it reads right on a light one too. It returns ""
// when the code would not fit in maxWidth×maxHeight cells or the text is
// too long for a QR code.
func QR(st Styles, text string, maxWidth, maxHeight int) string {
	code, err := qrcode.New(text, qrcode.Low)
	if err != nil {
		return ""
	}
	code.DisableBorder = true
	bits := code.Bitmap()
	n := len(bits) + 2*qrQuiet
	if n > maxWidth || (n+1)/2 > maxHeight {
		return ""
	}
	dark := func(x, y int) bool {
		x, y = x-qrQuiet, y-qrQuiet
		return y >= 0 && y < len(bits) && x >= 0 && x < len(bits[y]) && bits[y][x]
	}
	line := lipgloss.NewStyle()
	if st.Color {
		line = line.Foreground(lipgloss.BrightWhite).Background(lipgloss.Black)
	}
	rows := make([]string, 0, (n+1)/2)
	var b strings.Builder
	for y := 0; y < n; y += 2 {
		b.Reset()
		for x := 0; x < n; x++ {
			top, bottom := !dark(x, y), y+1 < n && !dark(x, y+1)
			switch {
			case top && bottom:
				b.WriteString("█")
			case top:
				b.WriteString("▀")
			case bottom:
				b.WriteString("▄")
			default:
				b.WriteString(" ")
			}
		}
		rows = append(rows, line.Render(b.String()))
	}
	return strings.Join(rows, "\n")
}

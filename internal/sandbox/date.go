package sandbox

import (
	"strconv"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// MaxDateFormatBytes is the longest format os.date accepts: each
// conversion expands to at most 30 bytes, so a result stays under 8 KB.
const MaxDateFormatBytes = 256

// The times os.date formats, as glibc's gmtime does: from the first second
// of the first year that fits in C's int to before the first second of the
// year past the last. Lua 5.1 returns nil outside them.
const (
	minDateSeconds = -67768040609740800
	endDateSeconds = 67768036191676800
)

// osDate is Lua 5.1's os.date([format [, time]]) with C's strftime in the
// C locale, which Lua 5.1 hands the format to: "*t" (or "!*t") for a table
// with yday and isdst, and for text the C89 conversions and glibc's common
// ones (%e %D %T %R %F %s %u %V ...). gopher-lua's own gave %a as "mon"
// on every day, %x as the time, yday 0, and left %j %U %W %T %D %e as
// written. A format starting with '!' is in UTC.
func osDate(L *lua.LState) int {
	format := L.OptString(1, "%c")
	if len(format) > MaxDateFormatBytes {
		L.RaiseError("os.date: format too long (%d bytes, max %d)", len(format), MaxDateFormatBytes)
	}
	t := time.Now()
	if L.Get(2) != lua.LNil {
		secs := float64(L.CheckNumber(2))
		if !(secs >= minDateSeconds && secs < endDateSeconds) { // NaN too
			L.Push(lua.LNil) // glibc's gmtime and localtime fail: a year past a C int
			return 1
		}
		t = time.Unix(int64(secs), 0)
	}
	utc := len(format) > 0 && format[0] == '!'
	if utc {
		format = format[1:]
		t = t.UTC()
	} else {
		t = t.Local()
	}
	if format == "*t" {
		tbl := L.CreateTable(0, 9)
		for _, f := range []struct {
			name  string
			value int
		}{{"year", t.Year()}, {"month", int(t.Month())}, {"day", t.Day()}, {"hour", t.Hour()}, {"min", t.Minute()},
			{"sec", t.Second()}, {"wday", int(t.Weekday()) + 1}, {"yday", t.YearDay()}} {
			tbl.RawSetString(f.name, lua.LNumber(f.value))
		}
		tbl.RawSetString("isdst", lua.LBool(!utc && t.IsDST()))
		L.Push(tbl)
		return 1
	}
	L.Push(lua.LString(strftime(nil, t, format, utc)))
	return 1
}

var (
	weekdays = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	months   = [...]string{"January", "February", "March", "April", "May", "June", "July", "August", "September",
		"October", "November", "December"}
)

// strftime appends t formatted by the C strftime format f, in the C locale,
// to out. A conversion it does not know is written as it stands.
func strftime(out []byte, t time.Time, f string, utc bool) []byte {
	num := func(n, width int, pad byte) {
		s := strconv.Itoa(n)
		for i := len(s); i < width; i++ {
			out = append(out, pad)
		}
		out = append(out, s...)
	}
	hour12 := func() int {
		if h := t.Hour() % 12; h != 0 {
			return h
		}
		return 12
	}
	wday, yday := int(t.Weekday()), t.YearDay()-1
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			out = append(out, f[i])
			continue
		}
		i++
		switch c := f[i]; c {
		case 'a':
			out = append(out, weekdays[wday][:3]...)
		case 'A':
			out = append(out, weekdays[wday]...)
		case 'b', 'h':
			out = append(out, months[t.Month()-1][:3]...)
		case 'B':
			out = append(out, months[t.Month()-1]...)
		case 'c':
			out = strftime(out, t, "%a %b %e %H:%M:%S %Y", utc)
		case 'C':
			num(t.Year()/100, 2, '0')
		case 'd':
			num(t.Day(), 2, '0')
		case 'D', 'x':
			out = strftime(out, t, "%m/%d/%y", utc)
		case 'e':
			num(t.Day(), 2, ' ')
		case 'F':
			out = strftime(out, t, "%Y-%m-%d", utc)
		case 'g':
			year, _ := t.ISOWeek()
			num(year%100, 2, '0')
		case 'G':
			year, _ := t.ISOWeek()
			num(year, 1, '0')
		case 'H':
			num(t.Hour(), 2, '0')
		case 'I':
			num(hour12(), 2, '0')
		case 'j':
			num(yday+1, 3, '0')
		case 'k':
			num(t.Hour(), 2, ' ')
		case 'l':
			num(hour12(), 2, ' ')
		case 'm':
			num(int(t.Month()), 2, '0')
		case 'M':
			num(t.Minute(), 2, '0')
		case 'n':
			out = append(out, '\n')
		case 'p':
			out = append(out, [2]string{"AM", "PM"}[t.Hour()/12]...)
		case 'P':
			out = append(out, [2]string{"am", "pm"}[t.Hour()/12]...)
		case 'r':
			out = strftime(out, t, "%I:%M:%S %p", utc)
		case 'R':
			out = strftime(out, t, "%H:%M", utc)
		case 's':
			out = strconv.AppendInt(out, t.Unix(), 10)
		case 'S':
			num(t.Second(), 2, '0')
		case 't':
			out = append(out, '\t')
		case 'T', 'X':
			out = strftime(out, t, "%H:%M:%S", utc)
		case 'u':
			num((wday+6)%7+1, 1, '0')
		case 'U':
			num((yday+7-wday)/7, 2, '0')
		case 'V':
			_, week := t.ISOWeek()
			num(week, 2, '0')
		case 'w':
			num(wday, 1, '0')
		case 'W':
			num((yday+7-(wday+6)%7)/7, 2, '0')
		case 'y':
			num(t.Year()%100, 2, '0')
		case 'Y':
			num(t.Year(), 1, '0')
		case 'z':
			_, offset := t.Zone()
			sign := byte('+')
			if offset < 0 {
				sign, offset = '-', -offset
			}
			out = append(out, sign)
			num(offset/3600*100+offset%3600/60, 4, '0')
		case 'Z':
			if utc {
				out = append(out, "GMT"...) // what glibc's gmtime names it
			} else {
				name, _ := t.Zone()
				out = append(out, name...)
			}
		case '%':
			out = append(out, '%')
		default:
			out = append(out, '%', c)
		}
	}
	return out
}

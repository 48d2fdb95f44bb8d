package bindings_test

import (
	"fmt"

	"github.com/hotlua/hotlua/bindings"
	lua "github.com/yuin/gopher-lua"
)

type Ship struct {
	Name string
	X, Y float64
}

func (s *Ship) Move(dx, dy float64) { s.X += dx; s.Y += dy }

// Example registers a type and a host object once and installs them into two
// generations: the object is the same Lua value in both.
func Example() {
	r := bindings.New()
	if err := bindings.Type[*Ship](r, "Ship"); err != nil {
		panic(err)
	}
	flagship := &Ship{Name: "Kestrel"}
	r.Value("flagship", flagship)
	if err := r.Func("greet", func(name string) string { return "hello " + name }); err != nil {
		panic(err)
	}

	var first lua.LValue
	for gen := 1; gen <= 2; gen++ {
		L := lua.NewState()
		if err := r.Install(L); err != nil {
			panic(err)
		}
		if err := L.DoString(`
			flagship:Move(1, 2)
			local escort = Ship.new{Name = "Wren"}
			print(greet(flagship.Name), flagship.X, flagship.Y, escort.Name)`); err != nil {
			panic(err)
		}
		if gen == 1 {
			first = L.GetGlobal("flagship")
		} else {
			fmt.Println("same userdata:", first == L.GetGlobal("flagship"))
		}
		L.Close()
	}
	// Output:
	// hello Kestrel	1	2	Wren
	// hello Kestrel	2	4	Wren
	// same userdata: true
}

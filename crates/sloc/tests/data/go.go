// 14 lines 10 code 2 comments 2 blanks
package main

import "fmt"

/* block */
func main() {
	raw := `a raw string
// not a comment
/* nor this`
	r := '"' // a rune
	s := "\"// still a string"
	fmt.Println(raw, r, s)
}

// 7 lines 4 code 2 comments 1 blanks
func.func @main() {
  return
}
// a line comment

x = "// not a comment";

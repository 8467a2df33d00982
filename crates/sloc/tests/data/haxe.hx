// 10 lines 5 code 4 comments 1 blanks
class Main {
  static function main() trace("hi");
}
// a line comment

/* a block comment
   still inside it */
var x = 1; /* a comment after code */
var s = "// not a comment";

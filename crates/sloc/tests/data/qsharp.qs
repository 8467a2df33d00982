// 7 lines 4 code 2 comments 1 blanks
namespace Demo {
  operation Main() : Unit {}
}
// a line comment

x = "// not a comment";

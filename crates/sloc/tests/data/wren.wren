// 11 lines 5 code 5 comments 1 blanks
class Demo {
  construct new() {}
}
// a line comment

/* a block comment
   still inside it */
/* outer /* inner */ still a comment */
y = 1; /* a comment after code */
x = "// not a comment";

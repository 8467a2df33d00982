// 10 lines 5 code 4 comments 1 blanks
component {
  function hi() { return "hi"; }
}
// a line comment

/* a block comment
   still inside it */
y = 1; /* a comment after code */
x = "// not a comment";

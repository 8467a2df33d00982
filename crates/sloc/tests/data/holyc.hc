// 11 lines 6 code 4 comments 1 blanks
U0 Main()
{
  "hi\n";
}
// a line comment

/* a block comment
   still inside it */
y = 1; /* a comment after code */
x = "// not a comment";

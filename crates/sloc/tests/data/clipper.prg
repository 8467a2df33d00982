// 11 lines 5 code 5 comments 1 blanks
FUNCTION Main()
   ? "hi"
RETURN NIL
// a line comment
&& another kind of line comment

/* a block comment
   still inside it */
y = 1; /* a comment after code */
x = "// not a comment";

// 9 lines 4 code 4 comments 1 blanks
MATCH (n:Person)
RETURN n.name
// a line comment

/* a block comment
   still inside it */
y = 1; /* a comment after code */
x = "// not a comment";

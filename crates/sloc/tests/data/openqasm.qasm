// 9 lines 4 code 4 comments 1 blanks
OPENQASM 3.0;
qubit q;
// a line comment

/* a block comment
   still inside it */
y = 1; /* a comment after code */
x = "// not a comment";

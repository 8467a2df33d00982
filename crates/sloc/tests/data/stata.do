// 10 lines 4 code 5 comments 1 blanks
sysuse auto
regress price mpg
// a line comment
* another kind of line comment

/* a block comment
   still inside it */
y = 1; /* a comment after code */
x = "// not a comment";

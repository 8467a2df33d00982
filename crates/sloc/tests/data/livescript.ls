# 9 lines 4 code 4 comments 1 blanks
double = (x) -> 2 * x
console.log double 3
# a line comment

/* a block comment
   still inside it */
y = 1; /* a comment after code */
x = "# not a comment";

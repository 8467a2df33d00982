// 9 lines 4 code 4 comments 1 blanks
cube([10, 10, 10]);
sphere(r = 5);
// a line comment

/* a block comment
   still inside it */
x = 1; /* a comment after code */
echo("// not a comment");

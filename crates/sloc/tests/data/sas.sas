* 10 lines 5 code 4 comments 1 blanks
data demo;
  x = 1;
run;
* a line comment

/* a block comment
   still inside it */
  y = 2; /* a comment after code */
  s = "* not a comment";

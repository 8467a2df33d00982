% 9 lines 4 code 4 comments 1 blanks
declare X = 1
{Browse X}
% a line comment

/* a block comment
   still inside it */
Y = 2 /* a comment after code */
S = "% not a comment"

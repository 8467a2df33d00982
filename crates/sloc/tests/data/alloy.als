-- 9 lines 3 code 5 comments 1 blanks
sig Person {}
fact { some Person }
-- a line comment
// another kind of line comment

/* a block comment
   still inside it */
y = 1; /* a comment after code */

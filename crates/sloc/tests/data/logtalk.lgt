% 9 lines 4 code 4 comments 1 blanks
:- object(hello).
:- end_object.
% a line comment

/* a block comment
   still inside it */
foo. /* a comment after code */
greeting('% not a comment').

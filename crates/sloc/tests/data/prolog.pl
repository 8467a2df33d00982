% 9 lines 4 code 4 comments 1 blanks
:- module(demo, [double/2]).
double(X, Y) :- Y is 2 * X.
% a line comment

/* a block comment
   still inside it */
done. /* a comment after code */
greeting('% not a comment').

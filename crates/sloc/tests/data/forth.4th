\ 8 lines 3 code 4 comments 1 blanks
: double ( n -- 2n ) 2 * ;
3 double .
\ a line comment

(  a block comment
   still inside it )
x (  a comment after code )

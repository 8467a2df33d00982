// 9 lines 4 code 4 comments 1 blanks
%token NUMBER
expr: expr '+' term { $$ = $1 + $3; } ;
// a line comment

/* a block comment
   still inside it */
x /* a comment after code */
str: "//" { $$ = 0; } ;

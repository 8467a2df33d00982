// 10 lines 4 code 5 comments 1 blanks
%token <int> INT
%start <int> main
// a line comment

(* a block comment
   still inside it *)
/* another block comment */
y = 1; (* a comment after code *)
x = "// not a comment";

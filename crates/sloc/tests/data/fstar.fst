// 10 lines 4 code 5 comments 1 blanks
module Demo
let double (x:int) = 2 * x
// a line comment

(* a block comment
   still inside it *)
(* outer (* inner *) still a comment *)
y = 1; (* a comment after code *)
x = "// not a comment";

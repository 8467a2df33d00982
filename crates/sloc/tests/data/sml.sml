(* 8 lines 3 code 4 comments 1 blanks *)
fun double x = 2 * x
val y = double 3

(* a block comment
   still inside it *)
(* outer (* inner *) still a comment *)
x = "(* not a comment";

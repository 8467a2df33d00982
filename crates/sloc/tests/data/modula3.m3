(* 8 lines 3 code 4 comments 1 blanks *)
MODULE Main;
BEGIN END Main.

(* a block comment
   still inside it *)
(* outer (* inner *) still a comment *)
CONST s = "(* not a comment";
